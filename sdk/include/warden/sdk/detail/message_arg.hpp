// Type-erased arguments of capture_message(), so the public header needs no formatting
// library: numbers keep their type (and so their format specs, "{:.2f}", "{:x}"), and
// anything else becomes text, through operator<< when it has one. Internal.
#pragma once

#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace warden::sdk::detail {

/// One argument of a message, as its formatter sees it.
struct message_arg {
  enum class kind : unsigned char { signed_integer, unsigned_integer, floating, boolean, text };
  kind type = kind::text;
  long long signed_value = 0;
  unsigned long long unsigned_value = 0;
  double floating_value = 0;
  std::string text;
};

template <typename T, typename = void>
struct is_streamable : std::false_type {};
template <typename T>
struct is_streamable<
    T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};

/// `value` as a message argument.
template <typename T>
message_arg to_message_arg(const T& value) {
  using type = std::decay_t<T>;
  message_arg arg;
  if constexpr (std::is_same_v<type, bool>) {
    arg.type = message_arg::kind::boolean;
    arg.unsigned_value = value ? 1 : 0;
  } else if constexpr (std::is_same_v<type, char>) {
    arg.text.assign(1, value);
  } else if constexpr (std::is_integral_v<type> && std::is_signed_v<type>) {
    arg.type = message_arg::kind::signed_integer;
    arg.signed_value = value;
  } else if constexpr (std::is_integral_v<type>) {
    arg.type = message_arg::kind::unsigned_integer;
    arg.unsigned_value = value;
  } else if constexpr (std::is_floating_point_v<type>) {
    arg.type = message_arg::kind::floating;
    arg.floating_value = static_cast<double>(value);
  } else if constexpr (std::is_enum_v<type>) {
    arg.type = message_arg::kind::signed_integer;
    arg.signed_value = static_cast<long long>(value);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    arg.text = std::string{std::string_view{value}};
  } else {
    static_assert(is_streamable<type>::value,
                  "a capture_message() argument must be a number, text or have operator<<");
    std::ostringstream out;
    out << value;
    arg.text = std::move(out).str();
  }
  return arg;
}

}  // namespace warden::sdk::detail
