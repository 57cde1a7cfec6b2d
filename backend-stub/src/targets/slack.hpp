// Slack incoming webhooks as the outbox uses them: the Block Kit message of a
// notification, the summary that replaces many held-back messages (coalescing), and what
// Slack's plain-text answers mean. Pure: the delivery worker sends the http_request.
// Shapes follow tests/fixtures/webhooks/outbound/slack_incoming_webhook_message.json
// (docs/ALERTING-PLAN.md §4.4).
//
//   http_request request = slack_message(receiver.slack, message);
//   // POST <webhook_url>, {"text": ":red_circle: CRITICAL OPS-1532 [team][function]
//   //  [product] Title", "blocks": [header, section per issue, context, ...]}
//   receiver_verdict verdict = slack_answer(client.send(request));
//   if (verdict.broken) mark_broken(receiver.name, verdict.error);
//
// The webhook URL is the request's URL and nowhere else. Text in mrkdwn has &, < and >
// escaped (Slack's only entities); links are <url|label>.
#pragma once

#include <cstddef>
#include <vector>

#include "server/alerting_config.hpp"
#include "targets/http.hpp"
#include "targets/notification.hpp"

namespace warden::sink {

/// The most issues a message shows; more are "and N more" with the group's link.
inline constexpr std::size_t kSlackMaxIssues = 20;

/// The message for `message`: POST to the webhook URL with a JSON body: `text` (the
/// fallback that notifications show: ":red_circle: CRITICAL OPS-1532 [team][function]
/// [product] Title"), then blocks: a header ("CRITICAL: Title (product)" for one issue,
/// "CRITICAL: 3 issues for team-payments" for several; "regressed" and "RESOLVED"
/// variants), and per issue (at most kSlackMaxIssues) a section ("*<ticket|OPS-1532>*
/// opened for *team* / function / product", the culprit, fields Source (environment) and
/// First seen) and a context (incident key, link to the issue in the sink); "and N more"
/// with the group's link past kSlackMaxIssues. Within Slack's limits: at most 50 blocks,
/// header 150 characters, section 3000.
[[nodiscard]] http_request slack_message(const slack_receiver& receiver,
                                         const notification& message);

/// One message standing for `held_back` (messages that waited too long for Slack's rate
/// limit, merged): a header "N notifications held back" and one line per notification
/// (severity, ticket or issue count, summary, link), as many as fit in 50 blocks, then
/// "and N more".
[[nodiscard]] http_request slack_summary(const slack_receiver& receiver,
                                         const std::vector<notification>& held_back);

/// What Slack's answer means: delivered only for 200 with the body "ok" (any other 200
/// is permanent: it was not Slack that answered). 404, 410 and the bodies no_service,
/// no_team, channel_not_found, channel_is_archived, invalid_token, action_prohibited,
/// team_disabled are permanent and `broken`. Other 4xx but 408 and 429 are permanent
/// (invalid_payload, invalid_blocks, ...); 408, 429, 5xx and no answer are left to the
/// retry policy.
[[nodiscard]] receiver_verdict slack_answer(const http_response& response);

}  // namespace warden::sink
