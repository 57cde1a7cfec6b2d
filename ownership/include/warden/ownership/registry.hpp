// The process-wide list of every declared owner and coverage probe.
//
// Each ownership macro registers its static descriptor before main() (or when the
// library holding it is loaded), whether or not the code ever runs — even when the
// function holding the macro is an inline function the program never calls — so
// coverage reports can list endpoints that never ran. Registration is a lock-free push
// done once per descriptor; the hot path of a scope never touches the registry.
//
// Example:
//
//   warden::for_each_declared_owner([](const warden::owner& o) {
//     std::cout << o.team() << ' ' << o.site().file << ':' << o.site().line << '\n';
//   });
//
// Libraries holding descriptors must stay loaded while the registry is read: link
// plug-ins that use the macros with -Wl,-z,nodelete (see docs/OWNERSHIP.md).
#pragma once

#include <atomic>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "warden/ownership/detail/config.hpp"
#include "warden/ownership/owner.hpp"

WARDEN_DETAIL_BEGIN_NAMESPACE

class unowned_probe;

namespace detail {

// An intrusive, push-only list of static descriptors of type Site.
template <typename Site>
class WARDEN_DETAIL_VISIBLE registry_list final {
 public:
  // Links `site` in, once: a second push of the same descriptor (possible when two
  // libraries with hidden visibility both register an exported descriptor) is ignored
  // instead of making the list loop.
  static bool push(const Site& site) noexcept {
    if (site.linked_.exchange(true, std::memory_order_acq_rel)) return true;
    const Site* head = head_.load(std::memory_order_relaxed);
    do {
      site.next_registered_ = head;
    } while (!head_.compare_exchange_weak(head, &site, std::memory_order_release,
                                          std::memory_order_relaxed));
    return true;
  }

  // Calls visit(const Site&) for every registered descriptor, newest first.
  template <typename Visitor>
  static void for_each(Visitor&& visit) {
    for (const Site* site = head_.load(std::memory_order_acquire); site != nullptr;
         site = site->next_registered_) {
      visit(*site);
    }
  }

 private:
  // Marked on the member too: clang does not carry the class's attribute to the static
  // data members of its instantiations under -fvisibility=hidden.
  WARDEN_DETAIL_VISIBLE static inline std::atomic<const Site*> head_{nullptr};
};

// Registers a namespace-scope descriptor (a module default) before main().
template <auto& Descriptor>
struct registration final {
  static inline const bool registered =
      registry_list<std::remove_const_t<std::remove_reference_t<decltype(Descriptor)>>>::push(
          Descriptor);
};

// A string copied into static storage at compile time.
template <std::size_t Size>
struct fixed_string {
  char text[Size + 1]{};
  constexpr std::string_view view() const noexcept { return {text, Size}; }
};

template <std::size_t Size>
constexpr fixed_string<Size> copy_string(std::string_view text) noexcept {
  fixed_string<Size> copy{};
  for (std::size_t i = 0; i < Size; ++i) copy.text[i] = text[i];
  return copy;
}

// The descriptor of one macro call site. `Tag` is a class local to the site's function
// whose static functions give the enclosing function's name and make the descriptor.
// Living at namespace scope (not as a function-local static), the descriptor and its
// registration exist even when the compiler never emits the function.
template <typename Tag>
struct call_site final {
  static constexpr auto function_name =
      copy_string<Tag::function_name().size()>(Tag::function_name());
  static constexpr auto descriptor = Tag::make(function_name.view());
  static inline const bool registered =
      registry_list<std::remove_const_t<decltype(descriptor)>>::push(descriptor);
};

}  // namespace detail

/// A point in shared code (a job runner, a request dispatcher, a database layer) that
/// expects some owner to be active. Made by WARDEN_EXPECT_OWNED(); coverage reports list
/// the probes that ran with no owner, i.e. code whose incidents would reach nobody.
class WARDEN_DETAIL_VISIBLE unowned_probe final {
 public:
  /// A probe at `site`.
  constexpr explicit unowned_probe(source_site site) noexcept : site_(site) {}
  unowned_probe(const unowned_probe&) = delete;
  unowned_probe& operator=(const unowned_probe&) = delete;

  /// Where the probe is.
  constexpr const source_site& site() const noexcept { return site_; }
  /// True once the probe ran while no owner was active.
  bool ran_unowned() const noexcept { return ran_unowned_.load(std::memory_order_relaxed); }
  /// Records an unowned run; writes the flag only the first time.
  void mark_ran_unowned() const noexcept {
    if (!ran_unowned_.load(std::memory_order_relaxed)) {
      ran_unowned_.store(true, std::memory_order_relaxed);
    }
  }

 private:
  friend class detail::registry_list<unowned_probe>;

  source_site site_;
  mutable std::atomic<bool> ran_unowned_{false};
  mutable std::atomic<bool> linked_{false};
  mutable const unowned_probe* next_registered_ = nullptr;
};

/// Calls visit(const warden::owner&) for every owner declared in the process, including
/// those whose code never ran. A module default declared with WARDEN_MODULE_OWNER in a
/// file included by several others appears once per file; reports merge them by site.
template <typename Visitor>
void for_each_declared_owner(Visitor&& visit) {
  detail::registry_list<owner>::for_each(visit);
}

/// Calls visit(const warden::unowned_probe&) for every probe declared in the process.
template <typename Visitor>
void for_each_unowned_probe(Visitor&& visit) {
  detail::registry_list<unowned_probe>::for_each(visit);
}

WARDEN_DETAIL_END_NAMESPACE
