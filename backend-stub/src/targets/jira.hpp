// Jira Cloud (REST API v3) as a tracker: a ticket is an issue of the project whose key
// ("OPS") the escalation names. Descriptions and comments go as Atlassian Document
// Format, converted from the Markdown that ticket_text.hpp writes (detail/adf.hpp). Pure builders
// and parsers behind tracker.hpp's interface; the delivery worker sends the requests.
//
//   std::unique_ptr<tracker_api> jira = jira_tracker_api(tracker.jira);
//   absl::StatusOr<http_request> create =
//       jira->create_ticket(call, "OPS", owner.fields, content, values);
//   // POST https://example.atlassian.net/rest/api/3/issue
//   absl::StatusOr<created_ticket> ticket = jira->parse_created(content, answer);
//   // {id "10532", key "OPS-1532", url "https://example.atlassian.net/browse/OPS-1532"}
//
// Every ticket has the labels "warden" and the incident key with its colons as dashes
// ("wd-1-c6110dd6075a4fcb"; "wd-" is put in front of a key that does not start so),
// which the reconcile search looks for with JQL. Resolving and reopening apply the
// configured transition with the comment, or only comment when none is configured.
// Requests carry `Authorization: Basic base64(email:token)` (`Bearer <token>` without an
// email), `Accept: application/json` and `User-Agent: warden-sink`.
#pragma once

#include <memory>

#include "server/alerting_config.hpp"
#include "targets/tracker.hpp"

namespace warden::sink {

/// The Jira Cloud API of `config`; the API keeps a copy of the config.
[[nodiscard]] std::unique_ptr<tracker_api> jira_tracker_api(const jira_config& config);

}  // namespace warden::sink
