// Generic webhook events, signed the Standard Webhooks way.
#include "targets/webhook.hpp"

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "targets/detail/standard_webhook.hpp"

namespace warden::sink {
namespace {

using detail::json_writer;
using detail::write_member;
using detail::write_string;

// key: the UTC time of `unix_ms`, or null when unknown (0).
void write_time(json_writer& out, std::string_view key, std::int64_t unix_ms) {
  write_string(out, key);
  if (unix_ms == 0) {
    out.Null();
  } else {
    write_string(out, absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms),
                                       absl::UTCTimeZone()));
  }
}

void write_issue(json_writer& out, const notified_issue& notified) {
  const ticket_snapshot& issue = notified.issue;
  out.StartObject();
  write_string(out, "id");
  out.Int64(issue.issue_id);
  write_member(out, "title", issue.title);
  write_member(out, "culprit", issue.culprit);
  write_string(out, "owner");
  out.StartObject();
  write_member(out, "team", issue.team);
  write_member(out, "function", issue.function);
  write_member(out, "product", issue.product);
  out.EndObject();
  write_member(out, "level", issue.level);
  write_member(out, "environment", issue.environment);
  write_string(out, "counts");
  out.StartObject();
  write_string(out, "events");
  out.Int64(issue.event_count);
  write_string(out, "users");
  out.Int64(issue.user_count);
  out.EndObject();
  write_time(out, "first_seen", issue.first_seen_ms);
  write_time(out, "last_seen", issue.last_seen_ms);
  write_member(out, "incident_key", issue.incident_key);
  write_string(out, "ticket");
  if (notified.ticket_key.empty() && notified.ticket_url.empty()) {
    out.Null();
  } else {
    out.StartObject();
    write_member(out, "key", notified.ticket_key);
    write_member(out, "url", notified.ticket_url);
    out.EndObject();
  }
  write_member(out, "rule", issue.rule);
  write_member(out, "reason", notified.reason);
  write_member(out, "link", issue.link);
  out.EndObject();
}

}  // namespace

absl::StatusOr<http_request> webhook_event(const webhook_receiver& receiver,
                                           const notification& message, std::string_view message_id,
                                           std::int64_t unix_seconds) {
  std::string body = detail::standard_webhook_body(
      message.resolved ? "issue.resolved" : "issue.alert", unix_seconds, [&](json_writer& out) {
        out.StartObject();
        write_member(out, "receiver", message.receiver);
        write_member(out, "group_key", message.group_key);
        write_string(out, "labels");
        out.StartObject();
        for (const auto& [label, value] : message.group_labels) write_member(out, label, value);
        out.EndObject();
        write_member(out, "link", message.link);
        write_string(out, "issues");
        out.StartArray();
        for (const notified_issue& each : message.issues) write_issue(out, each);
        out.EndArray();
        out.EndObject();
      });
  return detail::standard_webhook_request(receiver.url, receiver.secrets, message_id, unix_seconds,
                                          std::move(body));
}

}  // namespace warden::sink
