// Built with WARDEN_OWNERSHIP_CHECKS=0 whatever the build type: the release behaviour.
#define WARDEN_OWNERSHIP_CHECKS 0

#include "scope_checks_off.hpp"

#include <memory>

namespace scope_checks_off {
namespace {

constexpr warden::owner kFirst{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "first"}, "first-team", "backend"};
constexpr warden::owner kSecond{
    warden::owner_kind::endpoint, {__FILE__, __LINE__, "second"}, "second-team", "backend"};

}  // namespace

// Without checks a scope saves only the previous owner: nothing more to store or test.
static_assert(sizeof(warden::owner_scope) == sizeof(void*));

out_of_order_result end_scopes_out_of_order() {
  out_of_order_result result{&kFirst, nullptr, nullptr};
  const warden::owner_scope base{warden::owner_token{}};
  // On the heap rather than in std::optional (as scope_test.cpp does), which makes GCC
  // warn about a maybe-uninitialized member under the sanitizers.
  auto first = std::make_unique<warden::owner_scope>(kFirst);
  auto second = std::make_unique<warden::owner_scope>(kSecond);
  first.reset();
  result.after_first = warden::try_current_owner();
  second.reset();
  result.after_second = warden::try_current_owner();
  return result;
}

}  // namespace scope_checks_off
