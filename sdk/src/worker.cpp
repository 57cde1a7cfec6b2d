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
  flush_requested_ = true;
  work_ready_.notify_one();
  return settled_.wait_until(lock, deadline,
                             [&] { return settled_count_ >= target && !pending_work_; });
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
  return stopping_ || flush_requested_ || (!queue_.empty() && !queue_blocked_);
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
    std::unique_ptr<captured_event> item;
    bool flush_now = false;
    {
      std::unique_lock<std::mutex> lock{mu_};
      auto wake = steady::time_point::max();
      if (pending_work_) wake = std::min(wake, backoff_until_);
      if (counters_.has_pending()) wake = std::min(wake, next_report_);
      work_ready_.wait_until(lock, wake, [this] { return has_work(); });
      if (stopping_) break;
      flush_now = std::exchange(flush_requested_, false);
      if (!queue_.empty() && !queue_blocked_) {
        item = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    const bool processed = item != nullptr;
    if (processed) {
      process(std::move(item));
    } else if (!backing_off() && retry_) {
      retry waiting = std::move(*retry_);
      retry_.reset();
      deliver(std::move(waiting.envelope), waiting.category, waiting.attempts);
    } else if (!backing_off() && cached() > 0) {
      resend_oldest_cached();
    }
    send_client_report(flush_now);
    {
      const std::lock_guard<std::mutex> lock{mu_};
      if (processed) ++settled_count_;
      publish_state();
    }
    settled_.notify_all();
  }
  drain_on_close();
}

void worker::publish_state() {
  queue_blocked_ = !config_.cache && retry_.has_value();
  pending_work_ = retry_.has_value() || cached() > 0 || crash_reports_pending_;
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

void worker::process(std::unique_ptr<captured_event> item) {
  if (limits_.is_limited(data_category::error, steady::now())) {
    counters_.record(discard_reason::ratelimit_backoff, data_category::error);
    return;
  }
  if (std::optional<std::string> envelope = finish(*item)) {
    deliver(attach_client_report(*std::move(envelope)), data_category::error, 0);
  }
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

void worker::deliver(std::string envelope, data_category category, int attempts) {
  if (limits_.is_limited(category, steady::now())) {
    counters_.record(discard_reason::ratelimit_backoff, category);
    return;
  }
  if (backing_off()) {
    keep_for_later(std::move(envelope), category, attempts);
    return;
  }
  if (send(envelope, category, config_.request_timeout) == outcome::failed) {
    keep_for_later(std::move(envelope), category, attempts + 1);
  }
}

worker::outcome worker::send(const std::string& envelope, data_category category,
                             std::chrono::milliseconds timeout) {
  http_response response;
  try {
    response =
        config_.sender->send(envelope_request(envelope, config_.target, config_.identity), timeout);
  } catch (const std::exception& error) {
    response = {};
    response.error = fmt::format("the transport threw: {}", error.what());
  } catch (...) {
    response = {};
    response.error = "the transport threw";
  }
  const int status = response.status;
  if (status != 0) {
    limits_.update(status, response.retry_after, response.sentry_rate_limits, steady::now(),
                   absl::Now());
  }
  if (status >= 200 && status < 300) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    consecutive_failures_ = 0;
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
  if (status == 0 || status >= 500) {
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
                    status == 0 ? response.error : fmt::format("HTTP {}", status), delay.count()));
    return outcome::failed;
  }
  counters_.record(discard_reason::send_error, category);
  log(level::error, fmt::format("sink refused an envelope with HTTP {}; dropped", status));
  return outcome::dropped;
}

void worker::keep_for_later(std::string envelope, data_category category, int attempts) {
  if (config_.cache) {
    store_in_cache(envelope, category);
  } else if (attempts >= config_.max_attempts) {
    counters_.record(discard_reason::network_error, category);
    log(level::error, fmt::format("envelope dropped after {} attempts", attempts));
  } else {
    retry_ = retry{std::move(envelope), category, attempts};
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
  const absl::StatusOr<std::string> envelope = config_.cache->read(oldest);
  if (!envelope.ok()) {
    log(level::warning, to_std(envelope.status().message()));
    config_.cache->remove_oldest();
    return;
  }
  if (send(*envelope, oldest.category, config_.request_timeout) != outcome::failed) {
    config_.cache->remove_oldest();
  }
}

void worker::send_client_report(bool force) {
  if (!counters_.has_pending()) return;
  if (!force && steady::now() < next_report_) return;
  // Without a cache a report waits while the retry slot is taken.
  if (!config_.cache && (retry_ || backing_off())) return;
  next_report_ = steady::now() + config_.client_report_interval;
  std::string envelope = envelope_header(std::chrono::system_clock::now(), config_.identity);
  append_item(envelope, "client_report",
              client_report_payload(counters_.take_pending(), std::chrono::system_clock::now()));
  deliver(std::move(envelope), data_category::internal, 0);
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
  if (retry_) {
    counters_.record(discard_reason::network_error, retry_->category);
    retry_.reset();
  }
  if (!counters_.has_pending()) return;
  std::string report = envelope_header(std::chrono::system_clock::now(), config_.identity);
  append_item(report, "client_report",
              client_report_payload(counters_.take_pending(), std::chrono::system_clock::now()));
  const auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  if (remaining.count() > 0 && !backing_off() &&
      send(report, data_category::internal, remaining) != outcome::failed) {
    return;
  }
  if (config_.cache) store_in_cache(report, data_category::internal);
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
