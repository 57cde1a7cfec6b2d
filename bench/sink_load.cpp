#include "sink_load.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/select.h>
#include <time.h>

#include <algorithm>
#include <cmath>

namespace warden::bench {
namespace {

using clock_type = std::chrono::steady_clock;

double micros(clock_type::duration elapsed) {
  return std::chrono::duration<double, std::micro>(elapsed).count();
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

std::size_t append_answer(char* data, std::size_t size, std::size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

}  // namespace

// The multi handle and the header list every transfer shares.
struct load_generator::curl_handles {
  CURLM* multi = curl_multi_init();
  curl_slist* headers = nullptr;

  ~curl_handles() {
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
  }
};

// One easy handle and the request it carries.
struct load_generator::transfer {
  CURL* easy = curl_easy_init();
  std::string body;
  std::string answer;
  clock_type::time_point due;
  clock_type::time_point started;

  ~transfer() { curl_easy_cleanup(easy); }
};

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())) - 1.0);
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::min(rank, values.size() - 1));
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

load_generator::load_generator(const std::string& url, const std::vector<std::string>& headers,
                               std::size_t connections)
    : curl_(std::make_unique<curl_handles>()) {
  for (const std::string& header : headers) {
    curl_->headers = curl_slist_append(curl_->headers, header.c_str());
  }
  // No "Expect: 100-continue" round trip before larger bodies: SDKs do not wait for it.
  curl_->headers = curl_slist_append(curl_->headers, "Expect:");
  const auto limit = static_cast<long>(connections);
  curl_multi_setopt(curl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit);
  curl_multi_setopt(curl_->multi, CURLMOPT_MAXCONNECTS, limit);
  curl_multi_setopt(curl_->multi, CURLMOPT_PIPELINING, long{CURLPIPE_NOTHING});
  for (std::size_t i = 0; i < connections; ++i) {
    auto each = std::make_unique<transfer>();
    CURL* easy = each->easy;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, curl_->headers);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_answer);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &each->answer);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(each.get()));
    transfers_.push_back(std::move(each));
  }
}

load_generator::~load_generator() = default;

load_result load_generator::run(const load_plan& plan, const body_source& next_body) {
  load_result result;
  const bool open_loop = plan.rate > 0;
  const auto interval = std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(open_loop ? 1.0 / plan.rate : 0.0));
  const double cpu_before = thread_cpu_seconds();
  const clock_type::time_point start = clock_type::now();
  const clock_type::time_point end =
      start + std::chrono::duration_cast<clock_type::duration>(plan.duration);
  clock_type::time_point next_due = start;
  clock_type::time_point last_answer = start;
  std::vector<transfer*> idle;
  for (const auto& each : transfers_) idle.push_back(each.get());
  std::uint64_t requested = 0;
  std::size_t in_flight = 0;

  for (;;) {
    clock_type::time_point now = clock_type::now();
    while (!idle.empty() && requested < plan.max_requests && now < end &&
           (!open_loop || next_due <= now)) {
      transfer* next = idle.back();
      idle.pop_back();
      next->body.clear();
      next_body(next->body);
      next->answer.clear();
      curl_easy_setopt(next->easy, CURLOPT_POSTFIELDS, next->body.data());
      curl_easy_setopt(next->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(next->body.size()));
      next->due = open_loop ? next_due : now;
      next->started = clock_type::now();
      curl_multi_add_handle(curl_->multi, next->easy);
      result.body_bytes += next->body.size();
      ++requested;
      next_due += interval;
      in_flight = transfers_.size() - idle.size();
      result.max_in_flight = std::max(result.max_in_flight, in_flight);
      now = next->started;
    }
    const bool nothing_more =
        requested >= plan.max_requests || now >= end || (open_loop && next_due >= end);
    if (in_flight == 0 && nothing_more) break;

    int running = 0;
    curl_multi_perform(curl_->multi, &running);
    bool finished_any = false;
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(curl_->multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      const clock_type::time_point answered_at = clock_type::now();
      void* owner = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &owner);
      auto* done = static_cast<transfer*>(owner);
      long status = 0;
      curl_easy_getinfo(done->easy, CURLINFO_RESPONSE_CODE, &status);
      const CURLcode code = message->data.result;
      if (code == CURLE_OK && status >= 200 && status < 300) {
        ++result.answered;
      } else {
        ++result.failed;
        if (code != CURLE_OK) ++result.transport_errors;
        if (result.first_failure.empty()) {
          result.first_failure =
              code != CURLE_OK ? curl_easy_strerror(code)
                               : fmt::format("HTTP {}: {}", status, done->answer.substr(0, 200));
        }
      }
      // From when it was due: an open-loop request that waited for a free connection
      // waited as an SDK would have.
      result.latencies_us.push_back(micros(answered_at - done->due));
      if (open_loop) result.start_lag_us.push_back(micros(done->started - done->due));
      last_answer = answered_at;
      curl_multi_remove_handle(curl_->multi, done->easy);
      idle.push_back(done);
      --in_flight;
      finished_any = true;
    }
    if (finished_any) continue;  // start the next requests before waiting

    // Waits for socket activity, curl's own timers, or the next request due. select()
    // rather than curl_multi_poll() because its timeout has microseconds, not
    // milliseconds: open-loop requests start within ~0.1 ms of their time (descriptors
    // stay far below FD_SETSIZE: a few per connection).
    double wait_us = 100'000;
    long curl_timeout_ms = -1;
    curl_multi_timeout(curl_->multi, &curl_timeout_ms);
    if (curl_timeout_ms >= 0)
      wait_us = std::min(wait_us, static_cast<double>(curl_timeout_ms) * 1e3);
    if (open_loop && !idle.empty() && !nothing_more) {
      wait_us = std::min(wait_us, micros(next_due - clock_type::now()));
    }
    fd_set readable;
    fd_set writable;
    fd_set failed;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    FD_ZERO(&failed);
    int max_fd = -1;
    curl_multi_fdset(curl_->multi, &readable, &writable, &failed, &max_fd);
    const auto whole_us = static_cast<long>(std::max(0.0, wait_us));
    timeval timeout{whole_us / 1'000'000, whole_us % 1'000'000};
    ::select(max_fd + 1, &readable, &writable, &failed, &timeout);
  }
  result.seconds = std::chrono::duration<double>(last_answer - start).count();
  result.client_cpu_seconds = thread_cpu_seconds() - cpu_before;
  return result;
}

long http_get(const std::string& url, std::string& body) {
  CURL* easy = curl_easy_init();
  body.clear();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_answer);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(easy) == CURLE_OK) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(easy);
  return status;
}

}  // namespace warden::bench
