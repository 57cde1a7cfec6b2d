// What the outbox hands a notification receiver (Slack, PagerDuty, a generic webhook)
// and what the receiver's answer means: one group's issues as snapshots read at send
// time, and a verdict that tells "delivered", "failed for good" (and "the receiver itself
// is broken") from "ask the retry policy".
//
//   notification message{"payments-slack", R"({}/{team="payments"}:{issue="42"})",
//                        {{"team", "payments"}}, false, {{snapshot, "first_seen", "OPS-1", url}},
//                        public_url + "/api/0/issues?team=payments"};
//   http_response answer = client.send(slack_message(receiver.slack, message));
//   receiver_verdict verdict = slack_answer(answer);
//   if (!verdict.ok && !verdict.permanent) { /* classify(answer, now): retry or not */ }
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "targets/ticket.hpp"

namespace warden::sink {

/// One issue in a notification: the ticket snapshot, why it is notified, and its ticket.
struct notified_issue {
  ticket_snapshot issue;  ///< Title, owner, level, counts, link, incident_key, ...
  /// first_seen, regressed, unmuted, seen_more_than, users_more_than, resolved.
  std::string reason;
  std::string ticket_key;  ///< "OPS-1532"; empty without a ticket.
  std::string ticket_url;  ///< Link to the ticket; empty without a ticket.
};

/// A notification to one receiver: one group's issues, firing or resolved.
struct notification {
  std::string receiver;   ///< The receiver's name.
  std::string group_key;  ///< Alertmanager-style, e.g. {}/{team="payments"}:{issue="42"}.
  std::vector<std::pair<std::string, std::string>> group_labels;  ///< The group_by values.
  bool resolved = false;                                          ///< All its issues are resolved.
  std::vector<notified_issue> issues;                             ///< At least one.
  std::string link;  ///< The group's issues in the sink: public_url/api/0/issues?...
};

/// A receiver's answer, read with what the receiver's protocol says about it. When
/// neither `ok` nor `permanent`, the status says nothing more than the retry policy
/// knows (429, 5xx, no answer): outbox/retry_policy.hpp's classify() decides.
struct receiver_verdict {
  bool ok = false;         ///< Delivered.
  bool permanent = false;  ///< Failed for good: the same request would fail again.
  /// The receiver cannot take any message until its config is fixed (a revoked Slack
  /// webhook, an archived channel); implies `permanent`.
  bool broken = false;
  std::string error;  ///< Why it is not ok, one line for the delivery log; "" when ok.
};

}  // namespace warden::sink
