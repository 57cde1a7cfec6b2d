// The ticket's text: templates, summary, Markdown description and comments.
#include "targets/ticket_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/alerting_config.hpp"

namespace warden::sink {
namespace {

// Each template variable and where its value is; in the order of kTemplateVariables.
constexpr std::array<std::pair<std::string_view, std::string template_values::*>, 14>
    kTemplateFields{{{"team", &template_values::team},
                     {"function", &template_values::function},
                     {"product", &template_values::product},
                     {"level", &template_values::level},
                     {"severity", &template_values::severity},
                     {"priority", &template_values::priority},
                     {"environment", &template_values::environment},
                     {"release", &template_values::release},
                     {"incident_key", &template_values::incident_key},
                     {"issue_id", &template_values::issue_id},
                     {"title", &template_values::title},
                     {"culprit", &template_values::culprit},
                     {"project", &template_values::project},
                     {"rule", &template_values::rule}}};
static_assert(kTemplateFields.size() == kTemplateVariables.size(),
              "every template variable needs a field in template_values");

// The frames a description shows, innermost first.
constexpr std::size_t kMaxFrames = 5;

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…" in UTF-8

const std::string* template_value(const template_values& values, std::string_view name) {
  for (const auto& [variable, field] : kTemplateFields) {
    if (variable == name) return &(values.*field);
  }
  return nullptr;
}

event_level level_or_error(std::string_view level) {
  return parse_event_level(level).value_or(event_level::error);
}

// Control characters (newlines, tabs, ...) as spaces: a summary is one line.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  return out;
}

// Inline Markdown text: the characters that would start emphasis, code, links, HTML or
// tables are backslash-escaped.
std::string markdown_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : one_line(text)) {
    if (std::string_view{"\\`*_[]<>|~"}.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// The longest run of backticks in `text`.
std::size_t longest_backtick_run(std::string_view text) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

// A Markdown code span holding `text` verbatim, whatever backticks it contains.
std::string code_span(std::string_view text) {
  const std::string line = one_line(text);
  const std::string fence(longest_backtick_run(line) + 1, '`');
  const bool pad = !line.empty() && (line.front() == '`' || line.back() == '`');
  return fmt::format("{0}{1}{2}{1}{0}", fence, pad ? " " : "", line);
}

std::string utc_iso8601(std::int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

// "team / function / product", empty parts left out.
std::string owner_path(const ticket_snapshot& snapshot) {
  std::string out;
  for (const std::string* part : {&snapshot.team, &snapshot.function, &snapshot.product}) {
    if (part->empty()) continue;
    if (!out.empty()) out += " / ";
    out += markdown_text(*part);
  }
  return out;
}

// Appends "**label:** value" with a Markdown hard line break, unless value is empty.
void add_line(std::string& out, std::string_view label, std::string_view value) {
  if (value.empty()) return;
  fmt::format_to(std::back_inserter(out), "**{}:** {}  \n", label, value);
}

}  // namespace

std::string_view severity_of_level(std::string_view level) noexcept {
  switch (level_or_error(level)) {
    case event_level::fatal:
      return "critical";
    case event_level::error:
      return "error";
    case event_level::warning:
      return "warning";
    case event_level::info:
    case event_level::debug:
      break;
  }
  return "info";
}

template_values ticket_template_values(const ticket_snapshot& snapshot,
                                       const std::vector<std::string>& priority_by_level,
                                       std::string_view project) {
  const std::optional<event_level> level = parse_event_level(snapshot.level);
  const auto level_index = static_cast<std::size_t>(level.value_or(event_level::error));
  template_values values;
  values.team = snapshot.team;
  values.function = snapshot.function;
  values.product = snapshot.product;
  values.level = level ? std::string(event_level_name(*level)) : snapshot.level;
  values.severity = std::string(severity_of_level(snapshot.level));
  values.priority = level_index < priority_by_level.size() ? priority_by_level[level_index] : "";
  values.environment = snapshot.environment;
  values.release = snapshot.last_release.empty() ? snapshot.first_release : snapshot.last_release;
  values.incident_key = snapshot.incident_key;
  values.issue_id = std::to_string(snapshot.issue_id);
  values.title = snapshot.title;
  values.culprit = snapshot.culprit;
  values.project = std::string(project);
  values.rule = snapshot.rule;
  return values;
}

absl::StatusOr<std::string> expand_template(std::string_view text, const template_values& values) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const bool doubled = i + 1 < text.size() && text[i + 1] == c;
    if ((c == '{' || c == '}') && doubled) {
      out += c;
      i += 2;
    } else if (c == '{') {
      const std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            fmt::format("template \"{}\": '{{' at offset {} is not closed (write {{{{ for a "
                        "literal brace)",
                        text, i));
      }
      const std::string_view name = text.substr(i + 1, close - i - 1);
      const std::string* value = template_value(values, name);
      if (value == nullptr) {
        return absl::InvalidArgumentError(
            fmt::format("template \"{}\": unknown variable {{{}}}", text, name));
      }
      out += *value;
      i = close + 1;
    } else if (c == '}') {
      return absl::InvalidArgumentError(fmt::format(
          "template \"{}\": '}}' at offset {} has no '{{' (write }}}} for a literal brace)", text,
          i));
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  const std::string_view ellipsis = max_bytes >= kEllipsis.size() ? kEllipsis : "";
  std::size_t cut = max_bytes - ellipsis.size();
  // A byte 10xxxxxx continues a character: back up to the start of that character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + std::string(ellipsis);
}

std::string ticket_summary(const ticket_snapshot& snapshot) {
  std::string summary;
  for (const std::string* part : {&snapshot.team, &snapshot.function, &snapshot.product}) {
    if (!part->empty()) summary += fmt::format("[{}]", *part);
  }
  if (!summary.empty()) summary += ' ';
  summary += snapshot.title.empty() ? "(no title)" : snapshot.title;
  return truncate_utf8(one_line(summary), kMaxSummaryBytes);
}

std::string ticket_description(const ticket_snapshot& snapshot) {
  std::string out;
  auto to = std::back_inserter(out);
  fmt::format_to(to, "**{}**\n\n",
                 markdown_text(snapshot.title.empty() ? "(no title)" : snapshot.title));

  std::string owner = owner_path(snapshot);
  if (!owner.empty() && !snapshot.owner_source.empty()) {
    owner += fmt::format(" (owner source: {})", markdown_text(snapshot.owner_source));
  }
  add_line(out, "Owner", owner);
  add_line(out, "Level", markdown_text(snapshot.level));
  add_line(out, "Events", fmt::format("{} (users: {})", snapshot.event_count, snapshot.user_count));
  if (snapshot.first_seen_ms != 0) add_line(out, "First seen", utc_iso8601(snapshot.first_seen_ms));
  if (snapshot.last_seen_ms != 0) add_line(out, "Last seen", utc_iso8601(snapshot.last_seen_ms));
  if (!snapshot.first_release.empty()) {
    add_line(out, "First release", code_span(snapshot.first_release));
  }
  if (!snapshot.last_release.empty()) {
    add_line(out, "Last release", code_span(snapshot.last_release));
  }
  add_line(out, "Environment", markdown_text(snapshot.environment));
  if (!snapshot.culprit.empty()) add_line(out, "Culprit", code_span(snapshot.culprit));

  const std::vector<std::string> frames(
      snapshot.frames.begin(), snapshot.frames.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                             kMaxFrames, snapshot.frames.size())));
  if (!frames.empty()) {
    std::size_t backticks = 0;
    for (const std::string& frame : frames) {
      backticks = std::max(backticks, longest_backtick_run(frame));
    }
    const std::string fence(std::max<std::size_t>(3, backticks + 1), '`');
    fmt::format_to(to, "\n**Innermost in-app frames (latest event):**\n\n{}\n", fence);
    for (const std::string& frame : frames) fmt::format_to(to, "{}\n", one_line(frame));
    fmt::format_to(to, "{}\n", fence);
  }

  out += '\n';
  if (!snapshot.rule.empty()) {
    add_line(out, "Rule",
             snapshot.reason.empty() ? markdown_text(snapshot.rule)
                                     : fmt::format("{} ({})", markdown_text(snapshot.rule),
                                                   markdown_text(snapshot.reason)));
  }
  if (!snapshot.link.empty()) add_line(out, "In Warden", fmt::format("<{}>", snapshot.link));
  if (!snapshot.incident_key.empty()) {
    add_line(out, "Incident key", code_span(snapshot.incident_key));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

ticket_content ticket_content_of(const ticket_snapshot& snapshot) {
  return {ticket_summary(snapshot), ticket_description(snapshot), snapshot.incident_key};
}

std::string regression_comment(const ticket_snapshot& snapshot) {
  std::string out = snapshot.last_release.empty()
                        ? std::string("Regressed")
                        : fmt::format("Regressed in {}", markdown_text(snapshot.last_release));
  if (snapshot.last_seen_ms != 0) {
    out += fmt::format(": seen again at {}", utc_iso8601(snapshot.last_seen_ms));
  }
  out += fmt::format(" ({} events, {} users in total).", snapshot.event_count, snapshot.user_count);
  if (!snapshot.link.empty()) out += fmt::format("\n\nIn Warden: <{}>", snapshot.link);
  return out;
}

std::string resolve_comment(std::string_view actor) {
  if (actor.empty()) return "Resolved in Warden.";
  return fmt::format("Resolved in Warden by {}.", markdown_text(actor));
}

namespace {

// "- [title](link) — level, N events", one line per issue.
std::string digest_lines(const std::vector<digest_entry>& issues) {
  std::string lines;
  for (const digest_entry& issue : issues) {
    lines += fmt::format("- [{}]({}) — {}, {} events\n", markdown_text(issue.title), issue.link,
                         markdown_text(issue.level), issue.event_count);
  }
  return lines;
}

}  // namespace

ticket_content digest_ticket(std::string_view team, std::string_view digest_key,
                             const std::vector<digest_entry>& issues) {
  ticket_content content;
  content.summary =
      truncate_utf8(fmt::format("[{}] {} issues past the hourly ticket cap", team, issues.size()),
                    kMaxSummaryBytes);
  content.description = fmt::format(
      "Team **{}** had more new issues in an hour than its ticket cap "
      "(escalation.tickets_per_team_per_hour); these are listed here instead of one ticket "
      "each:\n\n{}\nIncident key: `{}`",
      markdown_text(team), digest_lines(issues), digest_key);
  content.incident_key = std::string{digest_key};
  return content;
}

std::string digest_comment(const std::vector<digest_entry>& issues) {
  return fmt::format("Now {} issues:\n\n{}", issues.size(), digest_lines(issues));
}

}  // namespace warden::sink
