#include "curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"

namespace warden::sdk::detail {
namespace {

absl::once_flag curl_initialized;

// Collects the response headers the SDK cares about.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<http_response*>(user);
  const std::size_t length = size * count;
  std::string_view line{data, length};
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return length;
  std::string name{line.substr(0, colon)};
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  if (name == "retry-after") response->retry_after = std::string{value};
  if (name == "x-sentry-rate-limits") response->sentry_rate_limits = std::string{value};
  return length;
}

// Discards the response body; the SDK needs only the status and headers.
std::size_t on_body(char*, std::size_t size, std::size_t count, void*) { return size * count; }

struct header_list_deleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

// A pool of easy handles driven by one multi handle: the multi handle keeps the
// connection cache (keep-alive, one connection per concurrent transfer) and lets
// cancel() wake the transfers up from another thread.
struct curl_transport::handle {
  CURLM* multi = nullptr;
  std::vector<CURL*> easy;  // grown to the largest batch seen
  std::atomic<bool> cancelled{false};
  ~handle() {
    for (CURL* curl : easy) curl_easy_cleanup(curl);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
};

// One request in flight on one easy handle.
struct curl_transport::transfer {
  CURL* curl = nullptr;
  std::unique_ptr<curl_slist, header_list_deleter> headers;
  http_response response;
  CURLcode result = CURLE_OK;
  bool added = false;
  bool done = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

curl_transport::curl_transport(curl_settings settings)
    : settings_(std::move(settings)), handle_(std::make_unique<handle>()) {
  absl::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_->multi = curl_multi_init();
}

void curl_transport::cancel() noexcept {
  handle_->cancelled.store(true, std::memory_order_release);
  if (handle_->multi != nullptr) curl_multi_wakeup(handle_->multi);
}

curl_transport::~curl_transport() = default;

http_response curl_transport::send(const http_request& request, std::chrono::milliseconds timeout) {
  return std::move(exchange({&request}, timeout).front());
}

std::vector<http_response> curl_transport::send_all(const std::vector<http_request>& requests,
                                                    std::chrono::milliseconds timeout) {
  std::vector<const http_request*> pointers;
  pointers.reserve(requests.size());
  for (const http_request& request : requests) pointers.push_back(&request);
  return exchange(pointers, timeout);
}

std::vector<http_response> curl_transport::exchange(
    const std::vector<const http_request*>& requests, std::chrono::milliseconds timeout) {
  std::vector<transfer> transfers(requests.size());
  while (handle_->easy.size() < requests.size()) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) break;
    handle_->easy.push_back(curl);
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i < handle_->easy.size()) {
      transfers[i].curl = handle_->easy[i];
      set_up(transfers[i], *requests[i], timeout);
    } else {
      transfers[i].response.error = "curl_easy_init failed";
    }
  }
  run(transfers);
  std::vector<http_response> responses;
  responses.reserve(transfers.size());
  for (transfer& each : transfers) {
    if (each.added && !each.done) each.result = CURLE_ABORTED_BY_CALLBACK;
    if (each.added && each.result != CURLE_OK) {
      each.response = {};
      if (each.result == CURLE_ABORTED_BY_CALLBACK) {
        each.response.error = "cancelled: the SDK is closing";
      } else {
        each.response.error =
            each.error_buffer[0] != '\0' ? each.error_buffer : curl_easy_strerror(each.result);
      }
    } else if (each.added) {
      long status = 0;
      curl_easy_getinfo(each.curl, CURLINFO_RESPONSE_CODE, &status);
      each.response.status = static_cast<int>(status);
    }
    responses.push_back(std::move(each.response));
  }
  return responses;
}

void curl_transport::set_up(transfer& out, const http_request& request,
                            std::chrono::milliseconds timeout) const {
  CURL* curl = out.curl;
  // Reset options from the previous request but keep the connection cache.
  curl_easy_reset(curl);
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* appended = curl_slist_append(out.headers.get(), line.c_str());
    if (appended == nullptr) {
      out.response.error = "out of memory building headers";
      return;
    }
    static_cast<void>(out.headers.release());
    out.headers.reset(appended);
  }
  // Without this, curl waits for a "100 Continue" before sending larger bodies.
  if (curl_slist* appended = curl_slist_append(out.headers.get(), "Expect:")) {
    static_cast<void>(out.headers.release());
    out.headers.reset(appended);
  }

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, out.headers.get());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.response);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, out.error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // the worker thread must not get SIGALRM
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(settings_.connect_timeout, timeout).count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<std::int64_t>(timeout.count(), 1)));
  if (!settings_.proxy.empty()) curl_easy_setopt(curl, CURLOPT_PROXY, settings_.proxy.c_str());
  if (!settings_.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_bundle.c_str());
  }
  out.added = curl_multi_add_handle(handle_->multi, curl) == CURLM_OK;
  if (!out.added) out.response.error = "curl_multi_add_handle failed";
}

void curl_transport::run(std::vector<transfer>& transfers) {
  CURLM* multi = handle_->multi;
  int running = 1;
  while (running > 0 && !handle_->cancelled.load(std::memory_order_acquire)) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      for (transfer& each : transfers) {
        if (each.curl == message->easy_handle) {
          each.result = message->data.result;
          each.done = true;
        }
      }
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (const transfer& each : transfers) {
    if (each.added) curl_multi_remove_handle(multi, each.curl);
  }
}

}  // namespace warden::sdk::detail
