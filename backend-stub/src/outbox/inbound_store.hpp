// The log of the trackers' webhooks (schema migration 8): every request the sink
// received from a tracker about a ticket, whether it was authenticated, what it said and
// what the sink did with it, as the delivery log does for what the sink sends. Writes
// take the store's writer connection; reads any connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/sqlite.hpp"

namespace warden::sink {

/// One webhook request from a tracker, as logged.
struct inbound_delivery {
  std::int64_t id = 0;
  std::int64_t received_ms = 0;
  std::string tracker;       ///< The tracker's name in the config.
  std::string source;        ///< youtrack, github.
  std::string delivery_key;  ///< The sender's delivery id; empty when it sends none.
  std::string event;         ///< What it reported: "issues.closed", "resolved", ...
  std::string ticket;        ///< The ticket's key ("OPS-12", "acme/shop#7"); may be empty.
  std::optional<std::int64_t> issue_id;  ///< The Warden issue of that ticket, if known.
  int status = 0;                        ///< The HTTP status answered.
  /// resolved, reopened, unchanged, ignored, duplicate, unknown_ticket, rejected,
  /// malformed.
  std::string outcome;
  std::string message;  ///< One line for people.
  std::string headers;  ///< Secrets masked.
  std::string body;     ///< Empty when the request was not authenticated.
};

/// Logs `delivery`; returns its id.
absl::StatusOr<std::int64_t> record_inbound(sqlite_db& db, const inbound_delivery& delivery);

/// Whether `tracker` already sent a delivery with `delivery_key` (a redelivery) that was
/// authenticated: a refused request does not take the key.
absl::StatusOr<bool> inbound_seen(sqlite_db& db, const std::string& tracker,
                                  const std::string& delivery_key);

/// Which logged requests to list; empty fields do not filter. Newest first.
struct inbound_filter {
  std::string tracker;
  std::string outcome;
  std::optional<std::int64_t> issue_id;
  std::optional<std::int64_t> before_id;  ///< Pagination: rows older than this one.
  int limit = 100;
};
absl::StatusOr<std::vector<inbound_delivery>> list_inbound(sqlite_db& db,
                                                           const inbound_filter& filter);

/// Deletes logged requests received before `before_ms`; returns how many.
absl::StatusOr<std::int64_t> prune_inbound(sqlite_db& db, std::int64_t before_ms);

}  // namespace warden::sink
