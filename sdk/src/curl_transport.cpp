#include "curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <string_view>
#include <utility>

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

// One easy handle driven by a multi handle: the multi handle keeps the connection cache
// (keep-alive) and lets cancel() wake a transfer up from another thread.
struct curl_transport::handle {
  CURL* curl = nullptr;
  CURLM* multi = nullptr;
  std::atomic<bool> cancelled{false};
  ~handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  // Runs the transfer set up on `curl`; CURLE_ABORTED_BY_CALLBACK when cancelled.
  CURLcode perform() {
    if (cancelled.load(std::memory_order_acquire)) return CURLE_ABORTED_BY_CALLBACK;
    if (curl_multi_add_handle(multi, curl) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode result = CURLE_OK;
    int running = 1;
    while (running > 0) {
      if (curl_multi_perform(multi, &running) != CURLM_OK) {
        result = CURLE_RECV_ERROR;
        break;
      }
      if (running == 0) break;
      if (cancelled.load(std::memory_order_acquire)) {
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == curl) {
        result = message->data.result;
      }
    }
    curl_multi_remove_handle(multi, curl);
    return result;
  }
};

curl_transport::curl_transport(curl_settings settings)
    : settings_(std::move(settings)), handle_(std::make_unique<handle>()) {
  absl::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_->curl = curl_easy_init();
  handle_->multi = curl_multi_init();
}

void curl_transport::cancel() noexcept {
  handle_->cancelled.store(true, std::memory_order_release);
  if (handle_->multi != nullptr) curl_multi_wakeup(handle_->multi);
}

curl_transport::~curl_transport() = default;

http_response curl_transport::send(const http_request& request, std::chrono::milliseconds timeout) {
  http_response response;
  CURL* curl = handle_->curl;
  if (curl == nullptr || handle_->multi == nullptr) {
    response.error = "curl_easy_init failed";
    return response;
  }
  // Reset options from the previous request but keep the connection cache.
  curl_easy_reset(curl);

  std::unique_ptr<curl_slist, header_list_deleter> headers;
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) {
      response.error = "out of memory building headers";
      return response;
    }
    static_cast<void>(headers.release());
    headers.reset(appended);
  }
  // Without this, curl waits for a "100 Continue" before sending larger bodies.
  if (curl_slist* appended = curl_slist_append(headers.get(), "Expect:")) {
    static_cast<void>(headers.release());
    headers.reset(appended);
  }

  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
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

  const CURLcode result = handle_->perform();
  if (result != CURLE_OK) {
    response = {};
    if (result == CURLE_ABORTED_BY_CALLBACK) {
      response.error = "cancelled: the SDK is closing";
    } else {
      response.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(result);
    }
    return response;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace warden::sdk::detail
