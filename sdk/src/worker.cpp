#include "worker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>

#include "crash_report.hpp"
#include "http_request.hpp"
#include "string_bridge.hpp"

namespace warden::sdk::detail {
namespace {

using steady = std::chrono::steady_clock;

}  // namespace

worker::worker(worker_config config, discard_counters& counters)
    : config_(std::move(config)),
      counters_(counters),
      symbolizer_(config_.in_app_prefixes),
      next_report_(steady::now() + config_.client_report_interval) {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    // Envelopes and crash reports left in the cache by an earlier run: flush() waits for
    // them from the start.
    crash_reports_pending_ = config_.cache && !crash_reports(config_.cache->directory()).empty();
    publish_state();
  }
  thread_ = std::thread{[this] { run(); }};
}

worker::~worker() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock{mu_};
    stopping_ = true;
    stop_deadline_ = steady::now();
  }
  work_ready_.notify_one();
  config_.sender->cancel();
  thread_.join();
}

bool worker::enqueue(std::unique_ptr<captured_event> item) {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    if (stopping_ || queue_.size() >= config_.queue_capacity) return false;
    queue_.push_back(std::move(item));
    ++enqueued_;
  }
  work_ready_.notify_one();
  return true;
}

bool worker::flush(steady::time_point deadline) {
  std::unique_lock<std::mutex> lock{mu_};
  const std::uint64_t target = enqueued_;
  const std::uint64_t generation = ++flushes_requested_;
  work_ready_.notify_one();
  return settled_.wait_until(lock, deadline, [&] {
    if (settled_count_ >= target && !pending_work_ && flushes_done_ >= generation) return true;
    // Tells the worker which progress is worth waking this thread for.
    lowest_flush_target_ = std::min(lowest_flush_target_, target);
    return false;
  });
}

bool worker::close(steady::time_point deadline) {
  if (!thread_.joinable()) return false;
  const bool all_out = flush(deadline);
  {
    const std::lock_guard<std::mutex> lock{mu_};
    stopping_ = true;
    stop_deadline_ = deadline;
  }
  work_ready_.notify_one();
  // A send still running (a stalled sink) must give up now, not at its own timeout.
  if (!all_out) config_.sender->cancel();
  thread_.join();
  return all_out;
}

bool worker::has_work() const {
  return stopping_ || flushes_done_ < flushes_requested_ || (!queue_.empty() && !queue_blocked_);
}

bool worker::backing_off() const { return steady::now() < backoff_until_; }

void worker::run() {
  import_crash_reports();
  {
    const std::lock_guard<std::mutex> lock{mu_};
    crash_reports_pending_ = false;
    publish_state();
  }
  for (;;) {
    std::vector<std::unique_ptr<captured_event>> items;
    std::uint64_t flushing = 0;  // the flush() this pass answers, if any
    {
      std::unique_lock<std::mutex> lock{mu_};
      auto wake = steady::time_point::max();
      if (pending_work_) wake = std::min(wake, backoff_until_);
      if (counters_.has_pending()) wake = std::min(wake, next_report_);
      work_ready_.wait_until(lock, wake, [this] { return has_work(); });
      if (stopping_) break;
      while (!queue_.empty() && !queue_blocked_ && items.size() < config_.max_in_flight) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // A flush sends the drop counts after the last batch, with every drop in them.
      if (flushes_done_ < flushes_requested_ && (queue_.empty() || queue_blocked_)) {
        flushing = flushes_requested_;
      }
    }
    const std::size_t processed = items.size();
    if (processed > 0) {
      process(std::move(items));
    } else if (!backing_off() && !retries_.empty()) {
      deliver(std::exchange(retries_, {}));
    } else if (!backing_off() && cached() > 0) {
      resend_oldest_cached();
    }
    send_client_report(flushing != 0);
    bool wake_flushers = false;
    {
      const std::lock_guard<std::mutex> lock{mu_};
      settled_count_ += processed;
      flushes_done_ = std::max(flushes_done_, flushing);
      publish_state();
      // Waking flush() after every event would cost a context switch per event.
      wake_flushers = flushing != 0 || (settled_count_ >= lowest_flush_target_ && !pending_work_);
      if (wake_flushers) lowest_flush_target_ = kNoFlushTarget;
    }
    if (wake_flushers) settled_.notify_all();
  }
  drain_on_close();
}

void worker::publish_state() {
  queue_blocked_ = !config_.cache && !retries_.empty();
  pending_work_ = !retries_.empty() || cached() > 0 || crash_reports_pending_;
}

void worker::complete(captured_event& item) {
  if (prepare_event(item, config_.defaults)) unowned_.fetch_add(1, std::memory_order_relaxed);
  symbolizer_.complete(item.event);
}

std::optional<std::string> worker::finish(captured_event& item) {
  complete(item);
  if (config_.before_send) {
    bool keep = true;
    try {
      keep = config_.before_send(item.event);
    } catch (...) {
      log(level::warning, "before_send threw; the event is sent unchanged");
    }
    if (!keep) {
      counters_.record(discard_reason::before_send, data_category::error);
      return std::nullopt;
    }
  }
  return event_envelope(item.event, config_.identity, std::chrono::system_clock::now(),
                        config_.target.public_key);
}

void worker::process(std::vector<std::unique_ptr<captured_event>> items) {
  std::vector<outgoing> batch;
  batch.reserve(items.size());
  for (const auto& item : items) {
    if (limits_.is_limited(data_category::error, steady::now())) {
      counters_.record(discard_reason::ratelimit_backoff, data_category::error);
    } else if (std::optional<std::string> envelope = finish(*item)) {
      batch.push_back({*std::move(envelope), data_category::error, 0});
    }
  }
  if (batch.empty()) return;
  batch.front().envelope = attach_client_report(std::move(batch.front().envelope));
  deliver(std::move(batch));
}

void worker::import_crash_reports() {
  if (!config_.cache) return;
  for (const std::filesystem::path& path : crash_reports(config_.cache->directory())) {
    std::ifstream file{path, std::ios::binary};
    const std::string text{std::istreambuf_iterator<char>{file}, {}};
    absl::StatusOr<event> crash = parse_crash_report(text, config_.in_app_prefixes);
    if (crash.ok()) {
      captured_event item;
      item.event = *std::move(crash);
      if (std::optional<std::string> envelope = finish(item)) {
        store_in_cache(*envelope, data_category::error);
      }
    } else {
      log(level::warning, fmt::format("crash report {} skipped: {}", path.string(),
                                      to_std(crash.status().message())));
    }
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
}

std::string worker::attach_client_report(std::string envelope) {
  const std::vector<discard_count> counts = counters_.take_pending();
  if (!counts.empty()) {
    append_item(envelope, "client_report",
                client_report_payload(counts, std::chrono::system_clock::now()));
    next_report_ = steady::now() + config_.client_report_interval;
  }
  return envelope;
}

void worker::deliver(std::vector<outgoing> batch) {
  std::vector<outgoing> sending;
  sending.reserve(batch.size());
  for (outgoing& each : batch) {
    if (limits_.is_limited(each.category, steady::now())) {
      counters_.record(discard_reason::ratelimit_backoff, each.category);
    } else if (backing_off()) {
      keep_for_later(std::move(each));
    } else {
      sending.push_back(std::move(each));
    }
  }
  if (sending.empty()) return;
  std::vector<const outgoing*> pointers;
  pointers.reserve(sending.size());
  for (const outgoing& each : sending) pointers.push_back(&each);
  const std::vector<outcome> outcomes = send(pointers, config_.request_timeout);
  for (std::size_t i = 0; i < sending.size(); ++i) {
    if (outcomes[i] != outcome::failed) continue;
    ++sending[i].attempts;
    keep_for_later(std::move(sending[i]));
  }
}

std::vector<worker::outcome> worker::send(const std::vector<const outgoing*>& batch,
                                          std::chrono::milliseconds timeout) {
  std::vector<http_request> requests;
  requests.reserve(batch.size());
  for (const outgoing* each : batch) {
    requests.push_back(envelope_request(each->envelope, config_.target, config_.identity));
  }
  std::vector<http_response> responses;
  try {
    responses = config_.sender->send_all(requests, timeout);
  } catch (const std::exception& error) {
    responses.clear();
    responses.resize(1);
    responses.front().error = fmt::format("the transport threw: {}", error.what());
  } catch (...) {
    responses.clear();
    responses.resize(1);
    responses.front().error = "the transport threw";
  }
  if (responses.size() != batch.size()) {
    // A transport that broke its contract: every envelope counts as a network failure.
    http_response failure = responses.empty() ? http_response{} : responses.front();
    if (failure.status != 0 || failure.error.empty()) {
      failure = {};
      failure.error =
          fmt::format("the transport answered {} of {} requests", responses.size(), batch.size());
    }
    responses.assign(batch.size(), failure);
  }
  std::vector<outcome> outcomes;
  outcomes.reserve(batch.size());
  const http_response* failure = nullptr;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    outcomes.push_back(settle(responses[i], batch[i]->category));
    if (outcomes.back() == outcome::failed) failure = &responses[i];
  }
  if (failure != nullptr) {
    back_off(*failure);
  } else {
    consecutive_failures_ = 0;
  }
  return outcomes;
}

worker::outcome worker::settle(const http_response& response, data_category category) {
  const int status = response.status;
  if (status != 0) {
    limits_.update(status, response.retry_after, response.sentry_rate_limits, steady::now(),
                   absl::Now());
  }
  if (status >= 200 && status < 300) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    return outcome::delivered;
  }
  if (status == 429) {
    // The sink counted it as rate limited itself; the limits now hold the rest back.
    log(level::warning,
        fmt::format("sink rate limit (429): {} held back for {} s", category_name(category),
                    std::chrono::duration_cast<std::chrono::seconds>(
                        limits_.limited_until(category) - steady::now())
                        .count()));
    return outcome::dropped;
  }
  if (status == 0 || status >= 500) return outcome::failed;
  counters_.record(discard_reason::send_error, category);
  log(level::error, fmt::format("sink refused an envelope with HTTP {}; dropped", status));
  return outcome::dropped;
}

void worker::back_off(const http_response& failure) {
  ++consecutive_failures_;
  const auto exponent = std::min(consecutive_failures_ - 1, 20);
  const auto ceiling =
      std::min(config_.retry_max_delay,
               std::chrono::milliseconds{config_.retry_initial_delay.count() << exponent});
  std::uniform_int_distribution<std::chrono::milliseconds::rep> jitter{ceiling.count() / 2,
                                                                       ceiling.count()};
  const std::chrono::milliseconds delay{jitter(jitter_)};
  backoff_until_ = steady::now() + delay;
  log(level::warning,
      fmt::format("sink unreachable ({}); retrying in {} ms",
                  failure.status == 0 ? failure.error : fmt::format("HTTP {}", failure.status),
                  delay.count()));
}

void worker::keep_for_later(outgoing failed) {
  if (config_.cache) {
    store_in_cache(failed.envelope, failed.category);
  } else if (failed.attempts >= config_.max_attempts) {
    counters_.record(discard_reason::network_error, failed.category);
    log(level::error, fmt::format("envelope dropped after {} attempts", failed.attempts));
  } else {
    retries_.push_back(std::move(failed));
  }
}

void worker::store_in_cache(const std::string& envelope, data_category category) {
  std::vector<data_category> evicted;
  const absl::Status stored = config_.cache->store(envelope, category, evicted);
  for (const data_category dropped : evicted) {
    counters_.record(discard_reason::cache_overflow, dropped);
  }
  if (!evicted.empty()) {
    log(level::warning,
        fmt::format("disk cache full: dropped {} oldest envelopes", evicted.size()));
  }
  if (!stored.ok()) {
    counters_.record(discard_reason::cache_overflow, category);
    log(level::error, fmt::format("envelope dropped: {}", to_std(stored.message())));
  }
}

void worker::resend_oldest_cached() {
  const disk_cache::entry oldest = *config_.cache->oldest();
  if (limits_.is_limited(oldest.category, steady::now())) {
    counters_.record(discard_reason::ratelimit_backoff, oldest.category);
    config_.cache->remove_oldest();
    return;
  }
  absl::StatusOr<std::string> envelope = config_.cache->read(oldest);
  if (!envelope.ok()) {
    log(level::warning, to_std(envelope.status().message()));
    config_.cache->remove_oldest();
    return;
  }
  const outgoing cached{*std::move(envelope), oldest.category, 0};
  if (send({&cached}, config_.request_timeout).front() != outcome::failed) {
    config_.cache->remove_oldest();
  }
}

void worker::send_client_report(bool force) {
  if (!counters_.has_pending()) return;
  if (!force && steady::now() < next_report_) return;
  // Without a cache a report waits while retries wait, and the worker sleeps until then
  // rather than waking for a report it cannot send.
  if (!config_.cache && (!retries_.empty() || backing_off())) {
    next_report_ = std::max(next_report_, backoff_until_);
    return;
  }
  next_report_ = steady::now() + config_.client_report_interval;
  std::string envelope = envelope_header(std::chrono::system_clock::now(), config_.identity);
  append_item(envelope, "client_report",
              client_report_payload(counters_.take_pending(), std::chrono::system_clock::now()));
  std::vector<outgoing> report;
  report.push_back({std::move(envelope), data_category::internal, 0});
  deliver(std::move(report));
}

void worker::drain_on_close() {
  std::deque<std::unique_ptr<captured_event>> left;
  steady::time_point deadline;
  {
    const std::lock_guard<std::mutex> lock{mu_};
    left.swap(queue_);
    deadline = stop_deadline_;
  }
  for (auto& item : left) {
    if (config_.cache && steady::now() < deadline) {
      if (std::optional<std::string> envelope = finish(*item)) {
        store_in_cache(*envelope, data_category::error);
      }
    } else {
      counters_.record(discard_reason::queue_overflow, data_category::error);
    }
  }
  if (!retries_.empty()) {
    log(level::error,
        fmt::format("closing: {} envelopes waiting for a retry are dropped", retries_.size()));
  }
  for (const outgoing& waiting : std::exchange(retries_, {})) {
    counters_.record(discard_reason::network_error, waiting.category);
  }
  if (!counters_.has_pending()) return;
  outgoing report{envelope_header(std::chrono::system_clock::now(), config_.identity),
                  data_category::internal, 0};
  append_item(report.envelope, "client_report",
              client_report_payload(counters_.take_pending(), std::chrono::system_clock::now()));
  const auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  if (remaining.count() > 0 && !backing_off() &&
      send({&report}, remaining).front() != outcome::failed) {
    return;
  }
  if (config_.cache) store_in_cache(report.envelope, data_category::internal);
}

void worker::log(level severity, std::string_view message) const {
  if (!config_.debug_logger) return;
  try {
    config_.debug_logger(severity, message);
  } catch (...) {
    // A logger that throws must not take the worker down.
  }
}

}  // namespace warden::sdk::detail
