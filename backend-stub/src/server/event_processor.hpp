// From a parsed event to what the store keeps: the owner (SDK tags, else the project's
// declared owner, else the ownership rules, else the fallback), the group key and the
// fields issues are filtered by. Pure and thread-safe: ingest threads call it
// concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "absl/status/statusor.h"
#include "server/config.hpp"
#include "store/store.hpp"
#include "warden/ownership/rules.hpp"

namespace warden::sink {

class event_processor final {
 public:
  /// `rules` and `fallback` come from the config; both are copied. `collect_tags`: the
  /// records carry the events' tags (alert rules filter on them).
  event_processor(warden::ownership_rules rules, owner_config fallback, bool collect_tags = false);

  /// Completes `event` (its id, received time) and returns its record for `project`.
  /// `event_id` is the envelope's (32 hex), or empty: the payload's, else a new one.
  /// `text` is the JSON `event` was parsed from: stored as it is when the event carries
  /// its id already (as SDKs send it), else `event` with its id is written out again.
  /// InvalidArgument when the payload is not an object.
  absl::StatusOr<event_record> process(rapidjson::Document& event, std::string_view text,
                                       const project_config& project, std::string event_id,
                                       std::int64_t received_ms) const;

 private:
  warden::ownership_rules rules_;
  warden::rule_owner fallback_;
  bool collect_tags_;
};

}  // namespace warden::sink
