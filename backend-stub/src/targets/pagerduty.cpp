// PagerDuty Events API v2 events and answers.
#include "targets/pagerduty.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "targets/ticket_text.hpp"

namespace warden::sink {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kDedupKeyPrefix = "warden:";
constexpr std::array<std::string_view, 4> kSeverities{"critical", "error", "warning", "info"};
// What is left of payload.source when its template expands to separators only.
constexpr std::string_view kDefaultSource = "warden";
constexpr std::string_view kSourceSeparators = " .-_/:";
constexpr std::size_t kMaxSourceBytes = 255;
constexpr std::size_t kMaxClassBytes = 255;

void write_string(json_writer& out, std::string_view text) {
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void write_member(json_writer& out, std::string_view key, std::string_view value) {
  write_string(out, key);
  write_string(out, value);
}

// Writes key: value unless value is empty.
void write_optional(json_writer& out, std::string_view key, std::string_view value) {
  if (!value.empty()) write_member(out, key, value);
}

std::string utc_iso8601(std::int64_t unix_ms, bool with_millis) {
  return absl::FormatTime(with_millis ? "%Y-%m-%dT%H:%M:%E3SZ" : "%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

// The receiver's severity for the issue's level (an unknown level counts as error).
absl::StatusOr<std::string> severity_for(const pagerduty_receiver& receiver,
                                         const ticket_snapshot& issue) {
  const auto level =
      static_cast<std::size_t>(parse_event_level(issue.level).value_or(event_level::error));
  const std::string severity = level < receiver.severity.size()
                                   ? receiver.severity[level]
                                   : std::string(severity_of_level(issue.level));
  if (std::find(kSeverities.begin(), kSeverities.end(), severity) == kSeverities.end()) {
    return absl::InvalidArgumentError(fmt::format(
        "PagerDuty severity \"{}\" for level {} is not one of critical, error, warning, info",
        severity, event_level_name(static_cast<event_level>(level))));
  }
  return severity;
}

// receiver.source expanded for the issue, without separators left dangling at its ends
// by empty variables ("{product}.{environment}" without a product: "production").
absl::StatusOr<std::string> source_for(const pagerduty_receiver& receiver,
                                       const ticket_snapshot& issue) {
  absl::StatusOr<std::string> expanded =
      expand_template(receiver.source, ticket_template_values(issue, {}, ""));
  if (!expanded.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("PagerDuty source: {}", std::string(expanded.status().message())));
  }
  std::string_view source = *expanded;
  const std::size_t first = source.find_first_not_of(kSourceSeparators);
  if (first == std::string_view::npos) return std::string(kDefaultSource);
  source = source.substr(first, source.find_last_not_of(kSourceSeparators) - first + 1);
  return truncate_utf8(source, kMaxSourceBytes);
}

http_request post_event(const pagerduty_receiver& receiver, const rapidjson::StringBuffer& body) {
  http_request request;
  request.method = "POST";
  request.url = receiver.url;
  request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "warden-sink"}};
  request.body = std::string(body.GetString(), body.GetSize());
  return request;
}

// The string member `name` of `object`, or "" when absent or not a string.
std::string_view string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return {};
  return {member->value.GetString(), member->value.GetStringLength()};
}

// One line for the delivery log from PagerDuty's error body: "HTTP 400 invalid event:
// Event object is invalid: <errors>", else the status and the body's first bytes.
std::string error_message(const http_response& response) {
  rapidjson::Document answer;
  answer.Parse(response.body.data(), response.body.size());
  const std::string_view status = string_member(answer, "status");
  const std::string_view message = string_member(answer, "message");
  if (answer.HasParseError() || (status.empty() && message.empty())) {
    if (response.body.empty()) return fmt::format("HTTP {} (empty body)", response.status);
    std::string excerpt = truncate_utf8(response.body, 200);
    for (char& c : excerpt) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    return fmt::format("HTTP {}: {}", response.status, excerpt);
  }
  std::string out = fmt::format("HTTP {}", response.status);
  if (!status.empty()) out += fmt::format(" {}", status);
  if (!message.empty()) out += fmt::format(": {}", message);
  const auto errors = answer.FindMember("errors");
  if (errors != answer.MemberEnd() && errors->value.IsArray()) {
    for (const rapidjson::Value& error : errors->value.GetArray()) {
      if (error.IsString()) out += fmt::format("; {}", error.GetString());
    }
  }
  return truncate_utf8(out, 1000);
}

}  // namespace

std::string pagerduty_dedup_key(const ticket_snapshot& issue) {
  const std::size_t fixed = kDedupKeyPrefix.size() + 1 + issue.incident_key.size();
  const std::size_t room =
      fixed < kPagerdutyMaxDedupKeyBytes ? kPagerdutyMaxDedupKeyBytes - fixed : 0;
  std::string team = issue.team;
  if (team.size() > room) {
    std::size_t cut = room;
    // Back up to the start of a UTF-8 character (10xxxxxx continues one).
    while (cut > 0 && (static_cast<unsigned char>(team[cut]) & 0xC0) == 0x80) --cut;
    team.resize(cut);
  }
  return fmt::format("{}{}:{}", kDedupKeyPrefix, team, issue.incident_key);
}

absl::StatusOr<http_request> pagerduty_trigger(const pagerduty_receiver& receiver,
                                               const notified_issue& notified) {
  const ticket_snapshot& issue = notified.issue;
  absl::StatusOr<std::string> severity = severity_for(receiver, issue);
  if (!severity.ok()) return severity.status();
  absl::StatusOr<std::string> source = source_for(receiver, issue);
  if (!source.ok()) return source.status();

  rapidjson::StringBuffer buffer;
  json_writer out(buffer);
  out.StartObject();
  write_member(out, "routing_key", receiver.routing_key.reveal());
  write_member(out, "event_action", "trigger");
  write_member(out, "dedup_key", pagerduty_dedup_key(issue));

  write_string(out, "payload");
  out.StartObject();
  write_member(out, "summary", ticket_summary(issue));
  write_member(out, "source", *source);
  write_member(out, "severity", *severity);
  if (issue.first_seen_ms != 0)
    write_member(out, "timestamp", utc_iso8601(issue.first_seen_ms, true));
  write_optional(out, "component", issue.product);
  write_optional(out, "group", issue.team);
  write_optional(
      out, "class",
      truncate_utf8(issue.culprit.empty() ? issue.title : issue.culprit, kMaxClassBytes));
  write_string(out, "custom_details");
  out.StartObject();
  write_optional(out, "function", issue.function);
  write_optional(out, "tracker_issue", notified.ticket_key);
  if (issue.first_seen_ms != 0) {
    write_member(out, "first_seen", utc_iso8601(issue.first_seen_ms, false));
  }
  write_string(out, "occurrences");
  out.Int64(issue.event_count);
  write_optional(out, "release",
                 issue.last_release.empty() ? issue.first_release : issue.last_release);
  write_optional(out, "environment", issue.environment);
  write_optional(out, "warden_issue", issue.link);
  out.EndObject();
  out.EndObject();

  write_member(out, "client", "warden-sink");
  write_optional(out, "client_url", notified.ticket_url.empty() ? issue.link : notified.ticket_url);
  std::vector<std::pair<std::string, std::string>> links;
  if (!notified.ticket_url.empty()) {
    links.emplace_back(notified.ticket_url,
                       notified.ticket_key.empty() ? "Ticket" : notified.ticket_key);
  }
  if (!issue.link.empty()) {
    links.emplace_back(issue.link, fmt::format("Warden issue {}", issue.issue_id));
  }
  if (!links.empty()) {
    write_string(out, "links");
    out.StartArray();
    for (const auto& [href, text] : links) {
      out.StartObject();
      write_member(out, "href", href);
      write_member(out, "text", text);
      out.EndObject();
    }
    out.EndArray();
  }
  out.EndObject();
  return post_event(receiver, buffer);
}

http_request pagerduty_resolve(const pagerduty_receiver& receiver, std::string_view dedup_key) {
  rapidjson::StringBuffer buffer;
  json_writer out(buffer);
  out.StartObject();
  write_member(out, "routing_key", receiver.routing_key.reveal());
  write_member(out, "event_action", "resolve");
  write_member(out, "dedup_key", dedup_key);
  out.EndObject();
  return post_event(receiver, buffer);
}

receiver_verdict pagerduty_answer(const http_response& response) {
  receiver_verdict verdict;
  if (response.status == 0) {
    verdict.error = response.error.empty()
                        ? "no answer from PagerDuty"
                        : fmt::format("no answer from PagerDuty: {}", response.error);
    return verdict;
  }
  if (response.status >= 200 && response.status < 300) {
    verdict.ok = true;
    return verdict;
  }
  verdict.error = error_message(response);
  verdict.permanent = response.status == 400;
  return verdict;
}

}  // namespace warden::sink
