// YouTrack's REST API as the outbox uses it: builders of each request (project lookup,
// create, reconcile search, command, comment) and parsers of the answers. Pure: the
// delivery worker sends the http_request and hands back the body. Shapes follow
// tests/fixtures/webhooks/outbound/youtrack_*.json (docs/ALERTING-PLAN.md §4.1).
//
//   http_request lookup = youtrack_project_lookup(config, "PAY");
//   absl::StatusOr<std::string> project_id = parse_youtrack_project_id(answer.body, "PAY");
//   template_values values = ticket_template_values(snapshot, config.priority, "PAY");
//   absl::StatusOr<http_request> create =
//       youtrack_create_issue(config, *project_id, owner.fields, snapshot, values);
//   absl::StatusOr<created_ticket> ticket = parse_youtrack_created_issue(config, answer.body);
//   if (!ticket.ok()) log(youtrack_error_message(answer));
//
// Every request carries `Authorization: Bearer <token>`, `Accept: application/json` and
// `User-Agent: warden-sink`; those with a body also `Content-Type: application/json`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"
#include "targets/http.hpp"
#include "targets/ticket.hpp"
#include "targets/ticket_text.hpp"
#include "targets/tracker.hpp"

namespace warden::sink {

/// `GET {url}/api/admin/projects?fields=id,name,shortName&query=<short_name>`: issues
/// name their project by entity id ("0-12"), not by short name ("PAY").
[[nodiscard]] http_request youtrack_project_lookup(const youtrack_config& config,
                                                   std::string_view short_name);

/// The entity id of the project whose shortName is `short_name` (case-insensitively, as
/// YouTrack compares them) in the lookup's answer; NotFound when none is, since the
/// query also matches names and parts of names.
[[nodiscard]] absl::StatusOr<std::string> parse_youtrack_project_id(std::string_view body,
                                                                    std::string_view short_name);

/// `POST {url}/api/issues?fields=id,idReadable,summary` creating a ticket with `content`
/// (ticket_content_of a snapshot, or a digest) in the project with entity id
/// `project_id`: customFields = config.fields, then `owner_fields` (an owner's field
/// replaces the tracker's field of the same name), then the incident key in
/// config.incident_key_field when one is configured. Field values are templates expanded
/// with `values`; a field whose value expands to "" (no product, say) is left out.
/// InvalidArgument for an unknown field type or a bad template.
[[nodiscard]] absl::StatusOr<http_request> youtrack_create_issue(
    const youtrack_config& config, std::string_view project_id,
    const std::vector<custom_field_config>& owner_fields, const ticket_content& content,
    const template_values& values);

/// The ticket in a 2xx answer to youtrack_create_issue: id "2-4711", key (idReadable)
/// "OPS-1532", url `{url}/issue/OPS-1532`.
[[nodiscard]] absl::StatusOr<created_ticket> parse_youtrack_created_issue(
    const youtrack_config& config, std::string_view body);

/// `GET {url}/api/issues?query=...&fields=...&$top=N` looking for a ticket with
/// `content` created before (a create whose answer was lost): by
/// `project: PAY {Incident key}: {wd:1:abc}` when config.incident_key_field is set, else
/// (weaker: text search, eventually consistent, other tickets may share words) by
/// `project: PAY summary: "<summary>"`.
[[nodiscard]] http_request youtrack_search_issue(const youtrack_config& config,
                                                 std::string_view project_short_name,
                                                 const ticket_content& content);

/// The first ticket in a youtrack_search_issue answer that really is `content`'s: its
/// incident key field holds exactly the incident key (when the answer lists custom
/// fields), or, without an incident key field, its summary equals content.summary.
/// nullopt when there is none; InvalidArgument when the body is not a list of issues.
[[nodiscard]] absl::StatusOr<std::optional<created_ticket>> parse_youtrack_search(
    const youtrack_config& config, std::string_view body, const ticket_content& content);

/// `POST {url}/api/commands` applying `command` ("State Fixed") to the issue `issue_key`
/// ("OPS-1532") with `comment` (left out when empty), not silently: the way to resolve
/// and reopen whatever the project's workflow. Answers 200 with an empty body.
[[nodiscard]] http_request youtrack_command(const youtrack_config& config,
                                            std::string_view issue_key, std::string_view command,
                                            std::string_view comment);

/// `POST {url}/api/issues/<issue_key>/comments?fields=id` adding a Markdown comment.
[[nodiscard]] http_request youtrack_comment(const youtrack_config& config,
                                            std::string_view issue_key, std::string_view text);

/// One readable line saying why YouTrack refused a request, for the delivery log:
/// "HTTP 400 invalid_properties: Priority is required" from its JSON error body
/// (error, error_description, error_children), else the status and the first 200 bytes
/// of the body, or the transport error when there was no answer.
[[nodiscard]] std::string youtrack_error_message(const http_response& response);

/// YouTrack as a tracker_api: the functions above, and the commands API to resolve and
/// reopen (one request each, with the comment).
[[nodiscard]] std::unique_ptr<tracker_api> youtrack_tracker_api(const youtrack_config& config);

}  // namespace warden::sink
