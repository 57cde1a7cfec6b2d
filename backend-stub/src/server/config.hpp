// warden-sink's configuration: a YAML file (every key optional), then command-line
// flags on top. With no file at all the sink listens on 127.0.0.1:9000, stores in
// ./warden-sink.db and serves one project whose key it generates and prints.
//
//   listen: 127.0.0.1:9000
//   database: /var/lib/warden/sink.db
//   public_url: https://sink.example.com      # links in tickets and the printed DSNs
//   log_level: info                           # debug, info, warning, error
//   api_token: "s3cret"                       # Bearer token of the query API
//   fallback_owner: {team: unowned, function: unknown}
//   ownership_rules: |                        # or ownership_rules_file: rules.txt
//     path:src/payments/**  team=payments function=backend
//   projects:
//     - id: 1
//       name: shop
//       owner: {team: payments, function: backend, product: checkout}  # optional default
//       keys:
//         - public_key: 0123456789abcdef0123456789abcdef
//         - public_key: fedcba9876543210fedcba9876543210
//           revoked: true
//       events_per_minute: 6000                # quota of the project (0: none)
//   limits: {max_request_bytes: 20MiB, max_event_bytes: 1MiB, max_items: 1000}
//   storage: {durable: true, max_events_per_issue: 100, retention_days: 90}
//   rate_limits: {events_per_minute_per_owner: 3000, spike_factor: 10}
//   attachments: drop                         # or store
//
// The other keys: projects[].disabled (bool); limits.max_decoded_bytes,
// max_attachment_bytes, max_json_depth, max_string_bytes, max_connections (connections
// served at once, default 512; more wait for one to close); rate_limits.spike_floor. A
// key written with no value keeps its default. Sizes (the *_bytes limits) are a number of
// bytes or an integer with a unit: B, kB or KB (1000), MB, GB, KiB (1024), MiB, GiB, as
// in "20MiB", "1MB" or "512 KiB". ownership_rules_file is read relative to the config
// file's directory; ownership rules errors are reported at their line in the YAML file
// (block scalar) or as "rules-file:line:column: ..." at the ownership_rules_file key.
//
// Alerting (issue #5): the keys trackers, escalation, alert_rules and delivery are
// documented in alerting_config.hpp and read into sink_config::alerting.
//
// Example:
//
//   warden::sink::config_result read = warden::sink::load_config("/etc/warden/sink.yaml");
//   for (const auto& e : read.errors) std::cerr << e.to_string("sink.yaml") << '\n';
//   if (!read.config) return 2;
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/alerting_config.hpp"

namespace warden::sink {

/// An owner as the config writes it; empty fields are unknown.
struct owner_config {
  std::string team;      ///< Owning team, e.g. "payments".
  std::string function;  ///< Its function: backend, frontend, data...
  std::string product;   ///< The product it serves, e.g. "checkout".
};

/// One public key of a project. A revoked key is answered 403.
struct key_config {
  std::string public_key;  ///< Sentry's are 32 hex digits; any key auth accepts is.
  bool revoked = false;    ///< Answered 403; nothing is stored.
};

/// One project: the number in its DSN, its keys and, optionally, the owner its events get
/// when they carry none (one project per team x function x product, as the article did).
struct project_config {
  std::uint64_t id = 0;                 ///< The DSN's project id; unique, > 0.
  std::string name;                     ///< Human-readable; optional.
  std::optional<owner_config> owner;    ///< Owner of events that carry none.
  std::vector<key_config> keys;         ///< Keys unique across all projects.
  bool disabled = false;                ///< Answered 403; nothing is stored.
  std::uint64_t events_per_minute = 0;  ///< Quota; 0: none.
};

/// Input limits, each breach answered with its status and a message naming it; and how
/// many connections are served at once.
struct limits_config {
  std::size_t max_request_bytes = 20 * 1024 * 1024;     ///< Body as sent (413).
  std::size_t max_decoded_bytes = 100 * 1024 * 1024;    ///< Body after decompression (413).
  std::size_t max_event_bytes = 1024 * 1024;            ///< One event/transaction/span item (413).
  std::size_t max_attachment_bytes = 20 * 1024 * 1024;  ///< One attachment (413).
  std::size_t max_items = 1000;                         ///< Items in one envelope (413).
  std::size_t max_json_depth = 64;                      ///< JSON nesting, 1000 at most (400).
  std::size_t max_string_bytes = 1024 * 1024;           ///< One JSON string (400).
  /// Connections served at once. Each takes a thread for as long as it stays open
  /// (keep-alive included), started when it arrives; more wait until one closes.
  std::size_t max_connections = 512;
};

/// How events are kept.
struct storage_config {
  bool durable = true;                      ///< synchronous=FULL (power-loss safe).
  std::int64_t max_events_per_issue = 100;  ///< Newest events kept per issue.
  std::int64_t retention_days = 90;         ///< Events older than this are deleted.
};

/// Flood protection, answered 429 with Retry-After and X-Sentry-Rate-Limits.
struct rate_limits_config {
  std::uint64_t events_per_minute_per_owner = 0;  ///< Per team/function/product; 0: none.
  /// Spike protection: a project may take at most this many times its average rate of
  /// the last hour in one minute (0: off). Never below `spike_floor` per minute.
  double spike_factor = 0;
  std::uint64_t spike_floor = 600;  ///< Events per minute spike protection always allows.
};

/// The whole configuration.
struct sink_config {
  std::string listen = "127.0.0.1:9000";    ///< host:port; port 0 picks a free one.
  std::string database = "warden-sink.db";  ///< Path of the SQLite file.
  std::string public_url;                   ///< Empty: http://<listen>.
  std::string log_level = "info";           ///< debug, info, warning or error.
  /// Bearer token of the query API. Empty: no token needed, allowed only when listening
  /// on a loopback address (a config error otherwise).
  std::string api_token;
  owner_config fallback_owner{"unowned", "unknown", ""};  ///< When nothing else gives one.
  std::string ownership_rules;  ///< Rules text (warden::rules format), inline or from file.
  std::vector<project_config> projects;  ///< Empty: the server adds a default project.
  limits_config limits;                  ///< Input limits.
  storage_config storage;                ///< Retention and durability.
  rate_limits_config rate_limits;        ///< Quotas and spike protection.
  bool store_attachments = false;        ///< `attachments: store`; dropped otherwise.
  alerting_config alerting;              ///< Trackers, escalation, alert rules, delivery.
};

/// A problem in a config file, with its 1-based line and column.
struct config_error {
  int line = 0;         ///< 1-based; 0 for the file as a whole (unreadable).
  int column = 0;       ///< 1-based, in bytes; 0 with line 0.
  std::string message;  ///< What is wrong, naming the key.
  /// "file:line:column: message", the form editors jump to; "file: message" at line 0.
  std::string to_string(const std::string& file) const;
};

/// The result of reading a config: the config when there were no errors, else every
/// error found (not just the first).
struct config_result {
  std::optional<sink_config> config;  ///< Set when `errors` is empty.
  std::vector<config_error> errors;   ///< Sorted by line, then column.
};

/// Parses YAML text. `base_directory` resolves ownership_rules_file.
/// An empty document (or only comments) gives the defaults. Never throws for bad input.
[[nodiscard]] config_result parse_config(const std::string& yaml,
                                         const std::string& base_directory);
/// Reads and parses a file; an unreadable file is one error at line 0.
[[nodiscard]] config_result load_config(const std::string& path);

}  // namespace warden::sink
