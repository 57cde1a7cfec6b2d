// What the trackers' webhooks say about a ticket (two-way state, docs/ALERTING-PLAN.md
// §4.7): the YouTrack workflow's report (docs/youtrack-workflow.js sends it) and
// GitHub's `issues` events, read into one ticket_change. Pure: the sink's endpoint
// checks the secret or signature over the raw body first, then applies the change.
//
//   absl::StatusOr<ticket_change> change =
//       parse_github_hook(request.header("x-github-event"), raw_body, false);
//   if (change.ok() && change->what == ticket_change::kind::resolved) resolve(change->ticket);
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace warden::sink {

/// A ticket's change as a tracker reported it.
struct ticket_change {
  enum class kind { resolved, reopened, ignored };
  kind what = kind::ignored;
  std::string ticket;  ///< The ticket's key as Warden stored it: "OPS-12", "acme/shop#7".
  std::string event;   ///< What was reported: "issues.closed", "youtrack.resolved", "ping".
  std::string actor;   ///< "youtrack:jdoe", "github:octocat"; "" when unknown.
  std::string note;    ///< ignored: why, for the log.
};

/// The YouTrack workflow's report: a JSON object {"idReadable": "OPS-12", "resolved":
/// bool, "state": "Fixed", "updatedBy": "jdoe"} (state and updatedBy optional).
/// InvalidArgument for anything else (not JSON, not UTF-8, a missing key).
[[nodiscard]] absl::StatusOr<ticket_change> parse_youtrack_hook(std::string_view body);

/// A GitHub webhook delivery of event `event` (X-GitHub-Event): `issues` with action
/// closed (state_reason completed, or not_planned when `resolve_not_planned`) resolves,
/// reopened reopens; ping and other actions or events are ignored. The ticket is
/// "<repository.full_name>#<issue.number>". InvalidArgument when the body is not a
/// JSON object, or an issues event lacks those members.
[[nodiscard]] absl::StatusOr<ticket_change> parse_github_hook(std::string_view event,
                                                              std::string_view body,
                                                              bool resolve_not_planned);

}  // namespace warden::sink
