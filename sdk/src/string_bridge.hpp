// Debian 12's Abseil has its own absl::string_view, distinct from std::string_view;
// these convert at the boundary. Internal to the SDK.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace warden::sdk::detail {

/// `text` as Abseil's string_view.
inline absl::string_view to_absl(std::string_view text) noexcept {
  return {text.data(), text.size()};
}
/// `text` as the standard string_view.
inline std::string_view to_std(absl::string_view text) noexcept {
  return {text.data(), text.size()};
}

}  // namespace warden::sdk::detail
