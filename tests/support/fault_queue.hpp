// Faults on demand for the fakes of warden-sink's targets (fake_youtrack.hpp,
// fake_github.hpp, fake_jira.hpp): failures that answer the next requests whatever they
// are, and one answer held back for a while. Not synchronised itself: each fake keeps it
// under its own mutex, with the rest of its state.
//
//   faults_.fail_next(1, 429, {{"Retry-After", "1"}}, R"({"message": "slow down"})");
//   if (std::optional<recording_server::reply> failure = faults_.next_failure()) {
//     return *failure;  // the request does nothing else
//   }
//   faults_.delay_if_hanging(answer);  // a hang_next() stalls this answer
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "recording_server.hpp"

namespace warden::testing {

class fault_queue final {
 public:
  using reply = recording_server::reply;

  /// Answers the next `count` requests with `status`, `headers` and `body`. Failures
  /// queue up: fail_next(1, 500, ...) then fail_next(1, 503, ...) fails the next request
  /// with 500 and the one after with 503.
  void fail_next(int count, int status, const std::map<std::string, std::string>& headers,
                 const std::string& body) {
    for (int i = 0; i < count; ++i) {
      failures_.push_back(reply{status, headers, body, std::chrono::milliseconds{0}});
    }
  }
  /// The failure that answers this request, if one is queued (taken off the queue).
  std::optional<reply> next_failure() {
    if (failures_.empty()) return std::nullopt;
    reply failure = std::move(failures_.front());
    failures_.pop_front();
    return failure;
  }

  /// The next answer passed to delay_if_hanging() waits `delay` before it is sent: its
  /// effect is there at once, a client that gives up sooner does not know of it.
  void hang_next(std::chrono::milliseconds delay) { hang_ = delay; }
  /// Puts the pending hang, if any, on `answer` (once).
  void delay_if_hanging(reply& answer) {
    if (!hang_) return;
    answer.delay = *hang_;
    hang_.reset();
  }

 private:
  std::deque<reply> failures_;
  std::optional<std::chrono::milliseconds> hang_;
};

}  // namespace warden::testing
