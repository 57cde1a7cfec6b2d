// The outbox's delivery worker: threads that take due rows of the outbox, build their
// requests from the issue as it is now, send them, log every exchange, and record the
// outcome: delivered, retried later (network errors, 408, 429, 5xx; Retry-After
// honoured, else exponential backoff with jitter), failed for good (other 4xx, kept
// with the answer), exhausted after delivery.give_up_after, or superseded (the ticket
// exists already). A row whose earlier attempt may have reached the tracker is
// reconciled first: its ticket is searched for by incident key before one is created.
//
//   curl_http_client client{...};
//   delivery_worker worker{db, client, options};
//   engine->on_queued([&] { worker.wake(); });
//   worker.start();
//   ...
//   worker.stop();  // before the store closes
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "absl/status/status.h"
#include "outbox/http_client.hpp"
#include "outbox/outbox_store.hpp"
#include "server/alerting_config.hpp"
#include "store/store.hpp"
#include "targets/notification.hpp"
#include "targets/ticket.hpp"
#include "targets/tracker.hpp"

namespace warden::sink {

/// What the worker delivers with.
struct delivery_worker_options {
  alerting_config alerting;  ///< Trackers, escalation owners and delivery settings.
  std::string public_url;    ///< Links back to the sink in tickets.
  /// The clock, Unix ms (tests may move it).
  std::function<std::int64_t()> now_ms;
};

class delivery_worker final {
 public:
  /// The most Slack messages one summary stands for.
  static constexpr int kMaxSummarised = 500;
  /// How long a message waits for a ticket of its issues that is being created, so that
  /// it can link to it; then it goes without the link.
  static constexpr std::chrono::milliseconds kTicketWait{30'000};
  /// How often a waiting message looks again.
  static constexpr std::chrono::milliseconds kTicketRecheck{500};

  /// `db` and `client` must outlive the worker.
  delivery_worker(store& db, http_client& client, delivery_worker_options options);
  ~delivery_worker();
  delivery_worker(const delivery_worker&) = delete;
  delivery_worker& operator=(const delivery_worker&) = delete;

  /// Marks rows a stopped process left in flight as uncertain and due, then starts
  /// delivery.concurrency threads.
  absl::Status start();
  /// Something was queued: look now rather than at the next due time.
  void wake();
  /// Aborts requests in flight (they are retried after a restart, as uncertain) and
  /// joins the threads. Idempotent.
  void stop();

 private:
  struct verdict;
  struct exchange_log;
  void run();
  // Claims one due row and delivers it; false when none was due.
  bool deliver_next();
  verdict deliver(const delivery_row& row);
  // A configured tracker and its API.
  struct tracker_target {
    const std::string& name;
    const tracker_api& api;
  };
  verdict deliver_ticket_create(const delivery_row& row, const tracker_target& tracker);
  verdict deliver_ticket_follow_up(const delivery_row& row, const tracker_target& tracker);
  verdict deliver_digest(const delivery_row& row, const tracker_target& tracker);
  // Creates a ticket with `content` in `project`, after searching for one an earlier,
  // uncertain attempt may have created.
  verdict create_ticket(const delivery_row& row, const tracker_target& tracker,
                        const std::string& project, const std::vector<custom_field_config>& fields,
                        const ticket_content& content, const template_values& values);
  // Sends `request` as step `step` of `row`'s attempt, logged before and after; a
  // tracker's refusal is explained by `tracker`.
  verdict exchange(const delivery_row& row, std::string_view step, const http_request& request,
                   http_response& response, const tracker_api* tracker = nullptr);
  void complete(const delivery_row& row, const verdict& outcome);
  // What create_ticket needs of `project` (YouTrack's entity id), looked up once per
  // tracker and project.
  verdict project_reference(const delivery_row& row, const tracker_target& tracker,
                            const std::string& project, std::string& reference);
  tracker_call call_of(const delivery_row& row) const;
  verdict deliver_notification(const delivery_row& row, const receiver_config& receiver);
  // The Slack message of `row`, or, when more than flood.slack_coalesce_above wait for
  // its webhook, one summary of them all; `merged` gets the other rows it stands for.
  http_request slack_request(const delivery_row& row, const receiver_config& receiver,
                             notification told, std::vector<std::int64_t>& merged);
  // Sends a summary for `row` and the `merged` rows; those are superseded once it is in.
  verdict deliver_summary(const delivery_row& row, const receiver_config& receiver,
                          const http_request& request, const std::vector<std::int64_t>& merged);
  // The id of an issue of `told` whose ticket is being created, on its first try and for
  // less than kTicketWait, or "".
  std::string ticket_being_created(const notification& told);
  // The notification a Slack, PagerDuty or webhook row carries, as it is now.
  absl::StatusOr<notification> notification_of(const delivery_row& row,
                                               const rapidjson::Value& why);
  // The issue as a ticket or message shows it; `why` gives the rule, reason, level and
  // environment of the fire.
  absl::StatusOr<ticket_snapshot> snapshot(std::int64_t issue_id, const rapidjson::Value& why);
  absl::StatusOr<std::optional<ticket_record>> read_ticket(std::int64_t issue_id);
  // `text` with every configured secret replaced by "***".
  std::string masked(std::string text) const;
  std::int64_t now() const;

  store& db_;
  http_client& client_;
  delivery_worker_options options_;
  std::vector<std::string> secrets_;  // values masked in the delivery log
  std::map<std::string, std::unique_ptr<tracker_api>> trackers_;  // by name

  std::mutex mu_;
  std::condition_variable wanted_;
  bool woken_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
  // Pacing of targets: a token bucket per rate-limited receiver (flood config), a pause a
  // Retry-After asked for, and a circuit per target (delivery.circuit).
  struct pace {
    double tokens = 0;
    std::int64_t refilled_ms = 0;
    std::int64_t paused_until_ms = 0;
    std::size_t failures = 0;  // deliveries in a row that found the target down
  };
  // After a delivery to `target`: its rate tokens, a Retry-After's pause, its circuit.
  void pace_after(const std::string& target, const verdict& outcome, std::int64_t at);
  const rate_config* rate_of(const std::string& target) const;
  std::vector<std::string> paused_targets(std::int64_t at);  // with pace_mu_ held
  std::mutex pace_mu_;
  std::map<std::string, pace> paces_;  // guarded by pace_mu_
  std::mutex projects_mu_;
  std::map<std::string, std::string> project_ids_;  // guarded by projects_mu_
};

}  // namespace warden::sink
