// GitHub Issues (REST API version 2022-11-28) as a tracker: a ticket is an issue of the
// repository "owner/repo" the escalation names as its project. Pure builders and
// parsers behind tracker.hpp's interface; the delivery worker sends the requests.
//
//   std::unique_ptr<tracker_api> github = github_tracker_api(tracker.github);
//   absl::StatusOr<http_request> create =
//       github->create_ticket(call, "acme/shop", owner.fields, content, values);
//   // POST https://api.github.com/repos/acme/shop/issues
//   absl::StatusOr<created_ticket> ticket = github->parse_created(content, answer);
//   // {id "1532", key "acme/shop#1532", url "https://github.com/acme/shop/issues/1532"}
//
// A ticket's body is the Markdown description, cut to GitHub's 65536 characters, ending
// with the hidden line "<!-- warden-incident-key: wd:1:abc -->", which the reconcile
// search (GET /search/issues) looks for. The created_ticket's key "owner/repo#N" names
// the repository and the issue number, so that comments, closing and reopening need
// nothing else. Owner fields have the types `label` (one label), `assignee` (logins,
// comma-separated) and `milestone` (the milestone's number). Every request carries
// `Authorization: Bearer <token>`, `Accept: application/vnd.github+json`,
// `X-GitHub-Api-Version: 2022-11-28` and `User-Agent: warden-sink`.
#pragma once

#include <memory>

#include "server/alerting_config.hpp"
#include "targets/tracker.hpp"

namespace warden::sink {

/// The GitHub Issues API of `config`; the API keeps a copy of the config.
[[nodiscard]] std::unique_ptr<tracker_api> github_tracker_api(const github_config& config);

}  // namespace warden::sink
