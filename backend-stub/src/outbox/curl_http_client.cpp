#include "outbox/curl_http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace warden::sink {
namespace {

using std::chrono::milliseconds;

// How long one wait for socket activity lasts at most; cancel_all() interrupts it.
constexpr int kPollIntervalMs = 1000;
// Connections one session keeps open (to as many hosts) between sends.
constexpr long kConnectionsPerSession = 4;

// curl_global_init is not thread-safe: it runs once for the process.
CURLcode initialize_curl() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

bool is_supported_method(std::string_view method) {
  return method == "GET" || method == "POST" || method == "PUT" || method == "PATCH" ||
         method == "DELETE";
}

std::string lowercase(std::string_view text) {
  std::string lowered{text};
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

struct header_list_deleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using header_list = std::unique_ptr<curl_slist, header_list_deleter>;

// Appends `line` to `list`; false when out of memory.
bool append(header_list& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return false;
  static_cast<void>(list.release());  // `grown` is the same list, or its first node
  list.reset(grown);
  return true;
}

// The request's headers as curl takes them, plus what turns curl's own defaults off:
// "Expect: 100-continue" (a round trip of waiting) and, when the request names none, the
// form Content-Type curl gives a body. An error message when a header could smuggle in
// another one (a line break in a name or value, e.g. from a template).
std::string build_header_list(const http_request& request, header_list& list) {
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return "a request header has an empty name, or a line break or ':' where none may be";
    }
    has_content_type = has_content_type || lowercase(name) == "content-type";
    // "Name;" is how curl sends a header with an empty value.
    if (!append(list, value.empty() ? name + ";" : name + ": " + value)) return "out of memory";
  }
  if (!append(list, "Expect:")) return "out of memory";
  if (!has_content_type && !append(list, "Content-Type:")) return "out of memory";
  return {};
}

// Collects the headers of the last response: a status line starts a new response, so the
// headers of an interim one (100 Continue, a proxy's CONNECT answer) are dropped.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& response = *static_cast<http_response*>(user);
  const std::size_t length = size * count;
  const std::string_view line{data, length};
  if (line.substr(0, 5) == "HTTP/") {
    response.headers.clear();
    return length;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return length;  // the blank line after the headers
  response.headers.emplace_back(lowercase(trim(line.substr(0, colon))),
                                std::string{trim(line.substr(colon + 1))});
  return length;
}

// Where the body of one transfer goes, and how much of it is kept.
struct body_sink {
  http_response* response;
  std::size_t max_body;
};

// Keeps the body up to the cap; past it, stops the transfer (curl reports a write error,
// which send() does not count as a failure): the rest is not needed, and an endless answer
// must not hold the sender until its timeout.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  const auto& sink = *static_cast<body_sink*>(user);
  std::string& body = sink.response->body;
  const std::size_t length = size * count;
  const std::size_t room = sink.max_body - body.size();
  if (length <= room) {
    body.append(data, length);
    return length;
  }
  body.append(data, room);
  sink.response->truncated = true;
  return 0;
}

// Sets `easy` up for `request`: every option from the defaults (no redirects, TLS
// verified, proxies from the environment); the handle keeps its connections and caches.
void configure(CURL* easy, const curl_http_client_options& options, const http_request& request,
               curl_slist* headers, body_sink& body, char* error_buffer) {
  curl_easy_reset(easy);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // worker threads must not get SIGALRM
  // A transfer that ends early (timeout, cancel_all) leaves a slow DNS lookup to finish
  // on its own instead of waiting for it: shutdown must not hang on a resolver.
  curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(options.connect_timeout, options.timeout).count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, body.response);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (request.method != "POST") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method != "DELETE" || !request.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  }
}

}  // namespace

// A multi handle (its connection cache is what keeps connections alive between sends, and
// its wakeup is what cancel_all() uses) with the one easy handle it drives.
struct curl_http_client::session {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  char error[CURL_ERROR_SIZE] = {};

  session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() {
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

absl::StatusOr<std::unique_ptr<curl_http_client>> curl_http_client::create(
    curl_http_client_options options) {
  if (options.connect_timeout.count() <= 0 || options.timeout.count() <= 0) {
    return absl::InvalidArgumentError("the HTTP client's timeouts must be positive");
  }
  if (options.max_response_body == 0) {
    return absl::InvalidArgumentError("the HTTP client's response body cap must be positive");
  }
  if (const CURLcode code = initialize_curl(); code != CURLE_OK) {
    return absl::InternalError(
        fmt::format("libcurl could not be initialised: {}", curl_easy_strerror(code)));
  }
  return std::unique_ptr<curl_http_client>{new curl_http_client{options}};
}

curl_http_client::curl_http_client(curl_http_client_options options) : options_(options) {}

curl_http_client::~curl_http_client() = default;

http_response curl_http_client::send(const http_request& request) {
  const auto started = std::chrono::steady_clock::now();
  http_response response;
  const auto finished = [&] {
    response.duration =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    return std::move(response);
  };
  if (!is_supported_method(request.method)) {
    response.error = fmt::format("unsupported HTTP method \"{}\"", request.method);
    return finished();
  }
  header_list headers;
  if (std::string problem = build_header_list(request, headers); !problem.empty()) {
    response.error = std::move(problem);
    return finished();
  }
  if (cancelled_.load(std::memory_order_acquire)) {
    response.error = std::string{kCancelledError};
    return finished();
  }
  std::unique_ptr<session> active = acquire();
  if (active == nullptr) {
    response.error = "libcurl could not create a handle";
    return finished();
  }

  body_sink body{&response, options_.max_response_body};
  active->error[0] = '\0';
  configure(active->easy, options_, request, headers.get(), body, active->error);
  run(*active, response);
  release(std::move(active));
  return finished();
}

void curl_http_client::run(session& active, http_response& response) {
  if (curl_multi_add_handle(active.multi, active.easy) != CURLM_OK) {
    response.error = "libcurl could not start the transfer";
    return;
  }
  {
    const std::lock_guard<std::mutex> lock{mu_};
    in_flight_.push_back(&active);
  }
  // Registered first, checked second: a cancel_all() from now on either is seen here or
  // wakes the poll below.
  bool done = false;
  CURLcode result = CURLE_OK;
  while (!done && !cancelled_.load(std::memory_order_acquire)) {
    int running = 0;
    if (curl_multi_perform(active.multi, &running) != CURLM_OK) break;
    int queued = 0;
    while (const CURLMsg* message = curl_multi_info_read(active.multi, &queued)) {
      if (message->msg == CURLMSG_DONE) {
        result = message->data.result;
        done = true;
      }
    }
    if (done || running == 0) break;
    curl_multi_poll(active.multi, nullptr, 0, kPollIntervalMs, nullptr);
  }
  long status = 0;
  long request_bytes = 0;
  curl_easy_getinfo(active.easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(active.easy, CURLINFO_REQUEST_SIZE, &request_bytes);
  curl_multi_remove_handle(active.multi, active.easy);  // aborts an unfinished transfer
  {
    const std::lock_guard<std::mutex> lock{mu_};
    in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), &active));
  }

  response.request_sent = request_bytes > 0;
  const bool stopped_at_cap = result == CURLE_WRITE_ERROR && response.truncated;
  if (done && (result == CURLE_OK || stopped_at_cap)) {
    response.status = static_cast<int>(status);
    return;
  }
  // No complete answer: whatever status line arrived does not count.
  response.status = 0;
  if (!done) {
    response.error = cancelled_.load(std::memory_order_acquire)
                         ? std::string{kCancelledError}
                         : std::string{"the transfer ended without a result"};
  } else {
    response.error = active.error[0] != '\0' ? active.error : curl_easy_strerror(result);
  }
}

void curl_http_client::cancel_all() noexcept {
  cancelled_.store(true, std::memory_order_release);
  const std::lock_guard<std::mutex> lock{mu_};
  for (session* active : in_flight_) curl_multi_wakeup(active->multi);
}

std::unique_ptr<curl_http_client::session> curl_http_client::acquire() {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    if (!idle_.empty()) {
      std::unique_ptr<session> reused = std::move(idle_.back());
      idle_.pop_back();
      return reused;
    }
  }
  auto fresh = std::make_unique<session>();
  fresh->multi = curl_multi_init();
  fresh->easy = curl_easy_init();
  if (fresh->multi == nullptr || fresh->easy == nullptr) return nullptr;
  curl_multi_setopt(fresh->multi, CURLMOPT_MAXCONNECTS, kConnectionsPerSession);
  return fresh;
}

void curl_http_client::release(std::unique_ptr<session> used) {
  {
    const std::lock_guard<std::mutex> lock{mu_};
    if (idle_.size() < options_.max_idle_sessions) {
      idle_.push_back(std::move(used));
      return;
    }
  }
  // Enough are idle: `used` closes its connections here, outside the lock.
}

}  // namespace warden::sink
