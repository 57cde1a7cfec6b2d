// The part of tracker_api that trackers naming their project as the config does share
// (GitHub's "owner/repo", Jira's key "OPS", a webhook's free name): no project lookup.
// Internal to warden_sink_targets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "targets/tracker.hpp"

namespace warden::sink::detail {

/// A tracker_api whose create_ticket() takes the project as the config names it.
class named_project_tracker : public tracker_api {
 public:
  /// Always nullopt: the name is used as it is.
  [[nodiscard]] std::optional<http_request> project_lookup(
      std::string_view /*project*/) const override {
    return std::nullopt;
  }
  /// The name itself (never called: there is no lookup).
  [[nodiscard]] absl::StatusOr<std::string> parse_project_lookup(
      std::string_view /*body*/, std::string_view project) const override {
    return std::string(project);
  }
};

}  // namespace warden::sink::detail
