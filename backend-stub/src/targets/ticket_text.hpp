// What a ticket says, independent of the tracker: the summary, the Markdown description,
// the comments on regression and resolve, and the `{var}` templates of the config
// (custom field values, labels) expanded for one issue. Pure functions of a snapshot.
//
//   template_values values = ticket_template_values(snapshot, config.priority, "PAY");
//   absl::StatusOr<std::string> priority = expand_template("{priority}", values);  // "Critical"
//   std::string summary = ticket_summary(snapshot);  // "[team-payments][backend][checkout] ..."
//   std::string description = ticket_description(snapshot);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "targets/ticket.hpp"

namespace warden::sink {

/// The value of each template variable (server/alerting_config.hpp, kTemplateVariables)
/// for one issue escalated to one tracker project.
struct template_values {
  std::string team;
  std::string function;
  std::string product;
  std::string level;     ///< fatal, error, warning, info, debug.
  std::string severity;  ///< critical, error, warning, info (see severity_of_level).
  std::string priority;  ///< The tracker's name for the level, e.g. "Critical".
  std::string environment;
  std::string release;       ///< The latest release, else the first.
  std::string incident_key;  ///< "wd:<project>:<hash16>".
  std::string issue_id;      ///< Warden's issue id, decimal.
  std::string title;
  std::string culprit;
  std::string project;  ///< The tracker's project, e.g. YouTrack's short name "PAY".
  std::string rule;     ///< The rule that fired.
};

/// PagerDuty's severity for a Sentry level: fatal→critical, error→error,
/// warning→warning, info and debug→info. An unknown level counts as error (Sentry's
/// default level).
[[nodiscard]] std::string_view severity_of_level(std::string_view level) noexcept;

/// The template values of `snapshot` for a ticket in `project`; `priority_by_level` is
/// the tracker's priority name per event_level (youtrack_config::priority), an unknown
/// level taken as error.
[[nodiscard]] template_values ticket_template_values(
    const ticket_snapshot& snapshot, const std::vector<std::string>& priority_by_level,
    std::string_view project);

/// `text` with each `{var}` replaced by its value; `{{` and `}}` stand for `{` and `}`.
/// InvalidArgument for a variable not in kTemplateVariables or an unmatched brace (the
/// config check refuses those, so this means a bug or an unchecked template).
[[nodiscard]] absl::StatusOr<std::string> expand_template(std::string_view text,
                                                          const template_values& values);

/// `text` cut to at most `max_bytes` bytes on a UTF-8 character boundary, ending with
/// "…" when it was cut (the ellipsis counts in the limit). Unchanged when it fits.
[[nodiscard]] std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

/// The longest ticket summary, in bytes (YouTrack and Jira limit it to 255 characters).
inline constexpr std::size_t kMaxSummaryBytes = 250;

/// "[team][function][product] title", the naming convention of the monitors' alerts.
/// An empty owner part is left out with its brackets (no product: "[team][function]
/// title") rather than written as "[]"; control characters become spaces; at most
/// kMaxSummaryBytes, cut with truncate_utf8.
[[nodiscard]] std::string ticket_summary(const ticket_snapshot& snapshot);

/// The ticket's Markdown description, readable without Warden: title, owner and where
/// the owner came from, level, events and users, first/last seen (UTC ISO-8601),
/// first/last release, environment, culprit, the first 5 (innermost) in-app frames in a
/// fenced block, the rule and reason, the link to the issue in the sink and the incident
/// key. Empty attributes are left out.
[[nodiscard]] std::string ticket_description(const ticket_snapshot& snapshot);

/// What the ticket of `snapshot` says: ticket_summary, ticket_description and the
/// incident key.
[[nodiscard]] ticket_content ticket_content_of(const ticket_snapshot& snapshot);

/// The comment that goes with reopening a ticket: "Regressed in <release>: ..." with the
/// counts and the link back to the sink.
[[nodiscard]] std::string regression_comment(const ticket_snapshot& snapshot);

/// The comment that goes with resolving a ticket: "Resolved in Warden by <actor>."
[[nodiscard]] std::string resolve_comment(std::string_view actor);

/// The ticket that lists a team's issues past its hourly ticket cap (rather than one
/// ticket each): "[team] 12 issues past the ticket cap", and a Markdown list of them
/// with their levels, counts and links. `digest_key` is its incident key.
[[nodiscard]] ticket_content digest_ticket(std::string_view team, std::string_view digest_key,
                                           const std::vector<digest_entry>& issues);
/// A comment on a digest ticket listing the issues it now has.
[[nodiscard]] std::string digest_comment(const std::vector<digest_entry>& issues);

}  // namespace warden::sink
