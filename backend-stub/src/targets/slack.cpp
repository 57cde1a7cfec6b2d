// Slack incoming webhook messages and answers.
#include "targets/slack.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "targets/ticket_text.hpp"

namespace warden::sink {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Block Kit limits, in bytes (Slack counts characters: bytes are never fewer).
constexpr std::size_t kMaxBlocks = 50;
constexpr std::size_t kMaxHeaderBytes = 150;
constexpr std::size_t kMaxSectionBytes = 3000;
// Parts of a section: enough for any title or culprit a person reads in a channel.
constexpr std::size_t kMaxTitleBytes = 300;
constexpr std::size_t kMaxCulpritBytes = 1000;
constexpr std::size_t kMaxLabelBytes = 100;

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…" in UTF-8

// Slack's words for Sentry's severities, most severe last.
struct severity_style {
  std::string_view severity;  // severity_of_level's name
  std::string_view label;
  std::string_view emoji;
};
constexpr std::array<severity_style, 4> kSeverities{{{"info", "INFO", ":large_blue_circle:"},
                                                     {"warning", "WARNING", ":warning:"},
                                                     {"error", "ERROR", ":large_orange_circle:"},
                                                     {"critical", "CRITICAL", ":red_circle:"}}};

std::size_t severity_rank(const ticket_snapshot& issue) {
  const std::string_view severity = severity_of_level(issue.level);
  for (std::size_t i = 0; i < kSeverities.size(); ++i) {
    if (kSeverities[i].severity == severity) return i;
  }
  return 2;  // error, Sentry's default level
}

// The style of the most severe issue of `message`.
const severity_style& worst_severity(const notification& message) {
  std::size_t worst = 0;
  for (const notified_issue& each : message.issues) {
    worst = std::max(worst, severity_rank(each.issue));
  }
  return kSeverities[worst];
}

// How many bytes the UTF-8 character starting with `lead` has (1 for a stray byte).
std::size_t utf8_length(unsigned char lead) {
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// `c` as mrkdwn text: Slack's three entities, control characters as spaces (one line).
std::string_view mrkdwn_char(const char& c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    default:
      break;
  }
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte == 0x7f) return " ";
  return {&c, 1};
}

// `text` escaped for mrkdwn, at most `max_bytes` long: cut on a character boundary,
// never inside an entity, ending with "…" when cut.
std::string mrkdwn(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(text.size());
  for (const char& c : text) out += mrkdwn_char(c);
  if (out.size() <= max_bytes) return out;

  out.clear();
  const std::size_t room = max_bytes - std::min(max_bytes, kEllipsis.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length =
        std::min(utf8_length(static_cast<unsigned char>(text[i])), text.size() - i);
    std::string piece;
    for (std::size_t j = i; j < i + length; ++j) piece += mrkdwn_char(text[j]);
    if (out.size() + piece.size() > room) break;
    out += piece;
    i += length;
  }
  if (max_bytes >= kEllipsis.size()) out += kEllipsis;
  return out;
}

// `text` for a plain_text object: one line, at most `max_bytes`.
std::string plain(std::string_view text, std::size_t max_bytes) {
  std::string line(text);
  for (char& c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  return truncate_utf8(line, max_bytes);
}

// <url|label>, `label` already escaped. In the URL, & is an entity as everywhere in
// mrkdwn, and the characters that would end the link are percent-encoded.
std::string link(std::string_view url, std::string_view label) {
  std::string out = "<";
  for (const char c : url) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "%3C";
        break;
      case '>':
        out += "%3E";
        break;
      case '|':
        out += "%7C";
        break;
      case ' ':
        out += "%20";
        break;
      default:
        out += c;
    }
  }
  return fmt::format("{}|{}>", out, label);
}

std::string title_of(const ticket_snapshot& issue) {
  return issue.title.empty() ? "(no title)" : issue.title;
}

bool all_regressed(const notification& message) {
  return !message.resolved &&
         std::all_of(message.issues.begin(), message.issues.end(),
                     [](const notified_issue& each) { return each.reason == "regressed"; });
}

// The team the notification is for: its group's, else the one all its issues share.
std::string team_of(const notification& message) {
  for (const auto& [label, value] : message.group_labels) {
    if (label == "team" && !value.empty()) return value;
  }
  if (message.issues.empty()) return {};
  const std::string& first = message.issues.front().issue.team;
  for (const notified_issue& each : message.issues) {
    if (each.issue.team != first) return {};
  }
  return first;
}

// "3 issues for team-payments" (not escaped).
std::string issue_count(const notification& message) {
  const std::string team = team_of(message);
  return fmt::format("{} issue{}{}{}", message.issues.size(), message.issues.size() == 1 ? "" : "s",
                     team.empty() ? "" : " for ", team);
}

// "CRITICAL", "CRITICAL regressed", "RESOLVED".
std::string status_label(const notification& message) {
  if (message.resolved) return "RESOLVED";
  return fmt::format("{}{}", worst_severity(message).label,
                     all_regressed(message) ? " regressed" : "");
}

// ":red_circle: CRITICAL OPS-1532 [team][function][product] Title" (mrkdwn); with
// links, the ticket key links to the ticket (or, without a ticket, the summary to the
// issue in the sink) and an issue count to the group's issues.
std::string headline(const notification& message, bool with_links) {
  std::string status;
  if (message.resolved) {
    status = ":white_check_mark: resolved";
  } else {
    const severity_style& severity = worst_severity(message);
    status = fmt::format("{} {}{}", severity.emoji, severity.label,
                         all_regressed(message) ? " regressed" : "");
  }
  if (message.issues.size() != 1) {
    const std::string count = mrkdwn(issue_count(message), kMaxTitleBytes);
    return fmt::format("{} {}", status,
                       with_links && !message.link.empty() ? link(message.link, count) : count);
  }
  const notified_issue& only = message.issues.front();
  const std::string summary = mrkdwn(ticket_summary(only.issue), kMaxTitleBytes);
  if (only.ticket_key.empty()) {
    return fmt::format(
        "{} {}", status,
        with_links && !only.issue.link.empty() ? link(only.issue.link, summary) : summary);
  }
  const std::string key = mrkdwn(only.ticket_key, kMaxLabelBytes);
  return fmt::format("{} {} {}", status,
                     with_links && !only.ticket_url.empty() ? link(only.ticket_url, key) : key,
                     summary);
}

// "CRITICAL: Title (product)", or "CRITICAL: 3 issues for team-payments".
std::string header_text(const notification& message) {
  if (message.issues.size() != 1) {
    return plain(fmt::format("{}: {}", status_label(message), issue_count(message)),
                 kMaxHeaderBytes);
  }
  const ticket_snapshot& issue = message.issues.front().issue;
  const std::string product = issue.product.empty() ? "" : fmt::format(" ({})", issue.product);
  return plain(fmt::format("{}: {}{}", status_label(message), title_of(issue), product),
               kMaxHeaderBytes);
}

// What happened to the issue, after its ticket key: "opened", "regressed", ...
std::string_view verb_of(std::string_view reason) {
  if (reason == "first_seen") return "opened";
  if (reason == "regressed") return "regressed";
  if (reason == "unmuted") return "unmuted";
  if (reason == "seen_more_than") return "seen more often than its rule allows";
  if (reason == "users_more_than") return "affects more users than its rule allows";
  if (reason == "resolved") return "resolved";
  return "notified";
}

// "*team-payments* / backend / checkout", empty parts left out.
std::string owner_text(const ticket_snapshot& issue) {
  std::string out;
  for (const std::string* part : {&issue.team, &issue.function, &issue.product}) {
    if (part->empty()) continue;
    if (!out.empty()) out += " / ";
    const std::string text = mrkdwn(*part, kMaxLabelBytes);
    out += part == &issue.team ? fmt::format("*{}*", text) : text;
  }
  return out;
}

// "*<ticket url|OPS-1532>*", "*OPS-1532*" without its URL, "*<issue link|#42>*" without
// a ticket.
std::string issue_reference(const notified_issue& notified) {
  if (!notified.ticket_key.empty()) {
    const std::string key = mrkdwn(notified.ticket_key, kMaxLabelBytes);
    return fmt::format("*{}*", notified.ticket_url.empty() ? key : link(notified.ticket_url, key));
  }
  const std::string id = fmt::format("#{}", notified.issue.issue_id);
  return fmt::format("*{}*", notified.issue.link.empty() ? id : link(notified.issue.link, id));
}

// `text` as a section's text: a section's parts are cut to fit, so this only guards
// Slack's limit, dropping whole lines from the end (a cut line could break a link).
std::string mrkdwn_fits(std::string text) {
  while (text.size() > kMaxSectionBytes) {
    const std::size_t newline = text.rfind('\n');
    if (newline == std::string::npos) return truncate_utf8(text, kMaxSectionBytes);
    text.resize(newline);
  }
  return text;
}

void write_string(json_writer& out, std::string_view text) {
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void write_member(json_writer& out, std::string_view key, std::string_view value) {
  write_string(out, key);
  write_string(out, value);
}

// {"type": type, "text": text}: a text object.
void write_text(json_writer& out, std::string_view type, std::string_view text) {
  out.StartObject();
  write_member(out, "type", type);
  write_member(out, "text", text);
  out.EndObject();
}

void write_header(json_writer& out, std::string_view text) {
  out.StartObject();
  write_member(out, "type", "header");
  write_string(out, "text");
  write_text(out, "plain_text", text);
  out.EndObject();
}

void write_section(json_writer& out, std::string_view text,
                   const std::vector<std::string>& fields = {}) {
  out.StartObject();
  write_member(out, "type", "section");
  write_string(out, "text");
  write_text(out, "mrkdwn", text);
  if (!fields.empty()) {
    write_string(out, "fields");
    out.StartArray();
    for (const std::string& field : fields) write_text(out, "mrkdwn", field);
    out.EndArray();
  }
  out.EndObject();
}

void write_context(json_writer& out, const std::vector<std::string>& elements) {
  out.StartObject();
  write_member(out, "type", "context");
  write_string(out, "elements");
  out.StartArray();
  for (const std::string& element : elements) write_text(out, "mrkdwn", element);
  out.EndArray();
  out.EndObject();
}

// The section and context blocks of one issue; `with_title` when the header does not
// name it (several issues).
void write_issue(json_writer& out, const notified_issue& notified, bool with_title) {
  const ticket_snapshot& issue = notified.issue;
  std::string text;
  if (with_title) text = mrkdwn(title_of(issue), kMaxTitleBytes) + "\n";
  text += fmt::format("{} {}", issue_reference(notified), verb_of(notified.reason));
  if (const std::string owner = owner_text(issue); !owner.empty()) text += " for " + owner;
  if (!issue.culprit.empty()) text += "\n" + mrkdwn(issue.culprit, kMaxCulpritBytes);

  std::vector<std::string> fields;
  if (!issue.environment.empty()) {
    fields.push_back("*Source*\n" + mrkdwn(issue.environment, kMaxLabelBytes));
  }
  if (issue.first_seen_ms != 0) {
    fields.push_back("*First seen*\n" + absl::FormatTime("%Y-%m-%d %H:%MZ",
                                                         absl::FromUnixMillis(issue.first_seen_ms),
                                                         absl::UTCTimeZone()));
  }
  write_section(out, mrkdwn_fits(text), fields);

  std::vector<std::string> context;
  if (!issue.incident_key.empty()) {
    context.push_back(fmt::format("incident key `{}`", mrkdwn(issue.incident_key, kMaxLabelBytes)));
  }
  if (!issue.link.empty()) context.push_back(link(issue.link, "Open in Warden"));
  if (!context.empty()) write_context(out, context);
}

http_request post_json(const slack_receiver& receiver, const rapidjson::StringBuffer& body) {
  http_request request;
  request.method = "POST";
  request.url = receiver.webhook_url.reveal();
  request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "warden-sink"}};
  request.body = std::string(body.GetString(), body.GetSize());
  return request;
}

// A line's bytes in the answer, for an error message.
std::string excerpt(std::string_view text) {
  std::string out = truncate_utf8(text, 200);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() &&
         std::string_view{" \t\r\n"}.find(text.front()) != std::string_view::npos) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::string_view{" \t\r\n"}.find(text.back()) != std::string_view::npos) {
    text.remove_suffix(1);
  }
  return text;
}

// Slack's answers that mean the webhook cannot post anywhere any more.
constexpr std::array<std::string_view, 7> kBrokenWebhookErrors{
    "no_service",    "no_team",           "channel_not_found", "channel_is_archived",
    "invalid_token", "action_prohibited", "team_disabled"};

}  // namespace

http_request slack_message(const slack_receiver& receiver, const notification& message) {
  rapidjson::StringBuffer buffer;
  json_writer out(buffer);
  out.StartObject();
  write_member(out, "text", headline(message, false));
  write_string(out, "blocks");
  out.StartArray();
  write_header(out, header_text(message));
  const bool several = message.issues.size() != 1;
  const std::size_t shown = std::min(message.issues.size(), kSlackMaxIssues);
  for (std::size_t i = 0; i < shown; ++i) write_issue(out, message.issues[i], several);
  if (shown < message.issues.size()) {
    std::string more = fmt::format("and {} more", message.issues.size() - shown);
    if (!message.link.empty()) {
      more +=
          ": " + link(message.link, fmt::format("all {} issues in Warden", message.issues.size()));
    }
    write_section(out, more);
  }
  out.EndArray();
  out.EndObject();
  return post_json(receiver, buffer);
}

http_request slack_summary(const slack_receiver& receiver,
                           const std::vector<notification>& held_back) {
  const std::string title = fmt::format("{} notification{} held back", held_back.size(),
                                        held_back.size() == 1 ? "" : "s");
  rapidjson::StringBuffer buffer;
  json_writer out(buffer);
  out.StartObject();
  write_member(out, "text", mrkdwn(title, kMaxHeaderBytes));
  write_string(out, "blocks");
  out.StartArray();
  write_header(out, plain(title, kMaxHeaderBytes));
  // Header, sections, and room for the "and N more" context.
  const std::size_t max_sections = kMaxBlocks - 2;
  std::size_t sections = 0;
  std::size_t listed = 0;
  std::string lines;
  for (const notification& message : held_back) {
    const std::string line = mrkdwn_fits("\xE2\x80\xA2 " + headline(message, true));  // "•"
    if (!lines.empty() && lines.size() + 1 + line.size() > kMaxSectionBytes) {
      write_section(out, lines);
      lines.clear();
      if (++sections == max_sections) break;
    }
    lines += lines.empty() ? line : "\n" + line;
    ++listed;
  }
  if (!lines.empty()) write_section(out, lines);
  if (listed < held_back.size()) {
    write_context(out, {fmt::format("and {} more", held_back.size() - listed)});
  }
  out.EndArray();
  out.EndObject();
  return post_json(receiver, buffer);
}

receiver_verdict slack_answer(const http_response& response) {
  receiver_verdict verdict;
  if (response.status == 0) {
    verdict.error = response.error.empty()
                        ? "no answer from Slack"
                        : fmt::format("no answer from Slack: {}", response.error);
    return verdict;
  }
  const std::string_view body = trimmed(response.body);
  if (response.status == 200 && body == "ok") {
    verdict.ok = true;
    return verdict;
  }
  verdict.error = body.empty() ? fmt::format("HTTP {} (empty body)", response.status)
                               : fmt::format("HTTP {}: {}", response.status, excerpt(body));
  const int status = response.status;
  verdict.broken = status == 404 || status == 410 ||
                   std::find(kBrokenWebhookErrors.begin(), kBrokenWebhookErrors.end(), body) !=
                       kBrokenWebhookErrors.end();
  const bool retryable = status == 408 || status == 429 || status >= 500;
  verdict.permanent = verdict.broken || !retryable;
  return verdict;
}

}  // namespace warden::sink
