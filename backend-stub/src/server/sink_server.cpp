#include "server/sink_server.hpp"
#include "store/clock.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "ingest/auth.hpp"
#include "ingest/body.hpp"
#include "ingest/envelope.hpp"
#include "ingest/json.hpp"
#include "ingest/status.hpp"
#include "server/api_json.hpp"
#include "server/connection_pool.hpp"
#include "server/log.hpp"

namespace warden::sink {
namespace {

// The ingest paths, whose bodies the sink decodes itself (within its limits).
constexpr const char* kIngestPath = R"(/api/(\d+)/(envelope|store)/?)";
// httplib inflates any body whose Content-Encoding it knows, with no bound; the header is
// moved here before it sees it, so decode_body() does it instead.
constexpr const char* kEncodingHeader = "X-Warden-Content-Encoding";

// The metrics reason for a refusal with `status`.
std::string reason_for(int status) {
  switch (status) {
    case 400:
      return "invalid";
    case 401:
      return "bad_auth";
    case 403:
      return "forbidden";
    case 413:
      return "too_large";
    case 429:
      return "rate_limited";
    case 503:
      return "unavailable";
    default:
      return "internal";
  }
}

void write_issue(json_writer& out, const issue_row& issue) {
  out.StartObject();
  write_int(out, "id", issue.id);
  write_int(out, "project_id", issue.project_id);
  write_string(out, "title", issue.title);
  write_string(out, "culprit", issue.culprit);
  out.Key("owner");
  out.StartObject();
  write_string(out, "team", issue.team);
  write_string(out, "function", issue.function);
  write_string(out, "product", issue.product);
  write_string(out, "source", issue.owner_source);
  out.EndObject();
  write_string(out, "level", issue.level);
  write_string(out, "status", issue.status);
  write_string(out, "substatus", issue.substatus);
  if (issue.resolved_in_release)
    write_string(out, "resolved_in_release", *issue.resolved_in_release);
  if (issue.muted_until_ms) write_int(out, "muted_until", *issue.muted_until_ms);
  if (issue.muted_remaining) write_int(out, "muted_remaining", *issue.muted_remaining);
  write_int(out, "count", issue.event_count);
  write_int(out, "user_count", issue.user_count);
  write_int(out, "first_seen", issue.first_seen_ms);
  write_int(out, "last_seen", issue.last_seen_ms);
  write_string(out, "first_release", issue.first_release);
  write_string(out, "last_release", issue.last_release);
  write_string(out, "latest_event_id", issue.latest_event_id);
  out.Key("grouping");
  out.StartObject();
  write_string(out, "hash", issue.group_hash);
  write_int(out, "version", issue.grouping_version);
  write_string(out, "kind", issue.grouping_kind);
  out.Key("components");
  out.RawValue(issue.grouping_components.data(), issue.grouping_components.size(),
               rapidjson::kArrayType);
  out.EndObject();
  out.EndObject();
}

// httplib deletes the task queue it was given when it stops listening; the server keeps
// its connection_pool (for /metrics) and gives httplib this stand-in.
class borrowed_task_queue final : public httplib::TaskQueue {
 public:
  explicit borrowed_task_queue(connection_pool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> task) override { pool_.enqueue(std::move(task)); }
  void shutdown() override { pool_.shutdown(); }

 private:
  connection_pool& pool_;
};

}  // namespace

void sink_metrics::accepted(const std::string& type) {
  if (type == "event") {
    events_accepted_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::lock_guard<std::mutex> lock{mu_};
  ++accepted_[type];
}

void sink_metrics::rejected(const std::string& reason) {
  const std::lock_guard<std::mutex> lock{mu_};
  ++rejected_[reason];
}

void sink_metrics::discarded_by_sdk(const std::string& reason, const std::string& category,
                                    std::int64_t n) {
  const std::lock_guard<std::mutex> lock{mu_};
  discarded_[{reason, category}] += n;
}

void sink_metrics::write_latency(double seconds) {
  static constexpr double kBounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 1.0};
  static_assert(std::size(kBounds) == std::tuple_size_v<decltype(write_buckets_)>);
  writes_.fetch_add(1, std::memory_order_relaxed);
  write_nanoseconds_.fetch_add(static_cast<std::int64_t>(seconds * 1e9), std::memory_order_relaxed);
  for (std::size_t i = 0; i < std::size(kBounds); ++i) {
    if (seconds <= kBounds[i]) write_buckets_[i].fetch_add(1, std::memory_order_relaxed);
  }
}

std::string sink_metrics::render(std::size_t queue_depth,
                                 const connection_pool_stats& connections) const {
  static constexpr const char* kBounds[] = {"0.001", "0.005", "0.01", "0.05", "0.1", "1"};
  const std::lock_guard<std::mutex> lock{mu_};
  std::map<std::string, std::int64_t> accepted = accepted_;
  if (const std::int64_t events = events_accepted_.load(std::memory_order_relaxed); events > 0) {
    accepted["event"] = events;
  }
  std::string text;
  text +=
      "# HELP warden_sink_accepted_total Envelope items accepted, by item type.\n"
      "# TYPE warden_sink_accepted_total counter\n";
  for (const auto& [type, count] : accepted) {
    text += fmt::format("warden_sink_accepted_total{{type=\"{}\"}} {}\n", type, count);
  }
  text +=
      "# HELP warden_sink_rejected_total Requests and items refused, by reason.\n"
      "# TYPE warden_sink_rejected_total counter\n";
  for (const auto& [reason, count] : rejected_) {
    text += fmt::format("warden_sink_rejected_total{{reason=\"{}\"}} {}\n", reason, count);
  }
  text +=
      "# HELP warden_sink_sdk_discarded_total Items SDKs dropped, from client reports.\n"
      "# TYPE warden_sink_sdk_discarded_total counter\n";
  for (const auto& [key, count] : discarded_) {
    text += fmt::format("warden_sink_sdk_discarded_total{{reason=\"{}\",category=\"{}\"}} {}\n",
                        key.first, key.second, count);
  }
  text += fmt::format(
      "# HELP warden_sink_write_queue_depth Writes waiting for the store's writer.\n"
      "# TYPE warden_sink_write_queue_depth gauge\n"
      "warden_sink_write_queue_depth {}\n"
      "# HELP warden_sink_write_seconds Time from handing an event to the store to its commit.\n"
      "# TYPE warden_sink_write_seconds histogram\n",
      queue_depth);
  for (std::size_t i = 0; i < std::size(kBounds); ++i) {
    text += fmt::format("warden_sink_write_seconds_bucket{{le=\"{}\"}} {}\n", kBounds[i],
                        write_buckets_[i].load(std::memory_order_relaxed));
  }
  const std::int64_t writes = writes_.load(std::memory_order_relaxed);
  text += fmt::format(
      "warden_sink_write_seconds_bucket{{le=\"+Inf\"}} {}\n"
      "warden_sink_write_seconds_sum {}\nwarden_sink_write_seconds_count {}\n",
      writes, static_cast<double>(write_nanoseconds_.load(std::memory_order_relaxed)) / 1e9,
      writes);
  text += fmt::format(
      "# HELP warden_sink_connection_threads Threads serving connections, idle ones included "
      "(at most limits.max_connections).\n"
      "# TYPE warden_sink_connection_threads gauge\n"
      "warden_sink_connection_threads {}\n"
      "# HELP warden_sink_connection_threads_peak The most connection threads at once.\n"
      "# TYPE warden_sink_connection_threads_peak gauge\n"
      "warden_sink_connection_threads_peak {}\n"
      "# HELP warden_sink_connections_busy Open connections, each holding a thread (idle "
      "keep-alive ones included).\n"
      "# TYPE warden_sink_connections_busy gauge\n"
      "warden_sink_connections_busy {}\n"
      "# HELP warden_sink_connections_waiting Accepted connections waiting for a thread "
      "(limits.max_connections are open).\n"
      "# TYPE warden_sink_connections_waiting gauge\n"
      "warden_sink_connections_waiting {}\n"
      "# HELP warden_sink_connections_waited_total Connections that had to wait for a "
      "thread.\n"
      "# TYPE warden_sink_connections_waited_total counter\n"
      "warden_sink_connections_waited_total {}\n",
      connections.threads, connections.peak_threads, connections.busy, connections.waiting,
      connections.waited_total);
  return text;
}

sink_server::sink_server(sink_config config, store& db)
    : config_(std::move(config)),
      db_(db),
      processor_(warden::ownership_rules::parse(config_.ownership_rules)
                     .rules.value_or(warden::ownership_rules{}),
                 config_.fallback_owner, filters_on_tags(config_.alerting.alert_rules)),
      limiter_(config_.rate_limits),
      connections_(std::make_unique<connection_pool>(config_.limits.max_connections)),
      http_(std::make_unique<httplib::Server>()) {
  for (const project_config& project : config_.projects) {
    for (const key_config& key : project.keys) keys_[key.public_key] = {&project, key.revoked};
  }
  route();
}

sink_server::~sink_server() = default;

absl::Status sink_server::bind() {
  const std::size_t colon = config_.listen.rfind(':');
  std::string host = config_.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(config_.listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(fmt::format("listen: '{}' is not host:port", config_.listen));
  }
  int listening = -1;
  http_->set_socket_options([&listening](int socket) {
    httplib::default_socket_options(socket);
    listening = socket;
  });
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
  } else {
    port_ = http_->bind_to_port(host, port) ? port : -1;
  }
  http_->set_socket_options(httplib::default_socket_options);  // `listening` goes away
  if (port_ <= 0) {
    return absl::UnavailableError(fmt::format("cannot listen on {}", config_.listen));
  }
  // cpp-httplib listens with a backlog of 5: a burst of SDK connections would wait for
  // SYN retransmits (a second each) or be reset. A second listen() raises it.
  if (listening >= 0) ::listen(listening, SOMAXCONN);
  return absl::OkStatus();
}

void sink_server::run() { http_->listen_after_bind(); }

void sink_server::stop() { http_->stop(); }

void sink_server::route() {
  httplib::Server& http = *http_;
  // A connection holds its thread while it is kept alive: a thread for each, started
  // when it arrives (a fixed pool would make the next one wait for a keep-alive timeout).
  http.new_task_queue = [this] { return new borrowed_task_queue{*connections_}; };
  http.set_tcp_nodelay(true);  // else each answer waits for a delayed ACK (40 ms)
  http.set_keep_alive_max_count(10000);
  http.set_payload_max_length(config_.limits.max_request_bytes);
  http.set_pre_routing_handler([](const httplib::Request& request, httplib::Response&) {
    auto& editable = const_cast<httplib::Request&>(request);
    const auto encoding = editable.headers.find("Content-Encoding");
    if (encoding != editable.headers.end() && absl::StartsWith(editable.path, "/api/")) {
      editable.headers.emplace(kEncodingHeader, encoding->second);
      editable.headers.erase(encoding);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http.Post(kIngestPath, [this](const httplib::Request& request, httplib::Response& response,
                                const httplib::ContentReader& read) {
    std::string body;
    bool too_large = false;
    const std::size_t limit = config_.limits.max_request_bytes;
    // One allocation for the usual body, whose length is announced.
    if (std::size_t announced = 0;
        absl::SimpleAtoi(request.get_header_value("Content-Length"), &announced)) {
      body.reserve(std::min(announced, limit));
    }
    read([&](const char* data, std::size_t length) {
      if (body.size() + length > limit) {
        too_large = true;
        return false;
      }
      body.append(data, length);
      return true;
    });
    if (too_large) {
      metrics_.rejected("too_large");
      answer_error(response, 413, fmt::format("request body exceeds {} bytes", limit));
      return;
    }
    ingest(request, response, request.matches[2] == "envelope", std::move(body));
  });
  // Browser SDKs ask first (CORS).
  http.Options(kIngestPath, [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Access-Control-Allow-Origin", "*");
    response.set_header("Access-Control-Allow-Methods", "POST, OPTIONS");
    response.set_header("Access-Control-Allow-Headers",
                        "Content-Type, Content-Encoding, X-Sentry-Auth, Authorization");
    response.status = 200;
  });

  http.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(
        metrics_.render(db_.queue_depth(), connections_->stats()) + alerting_metrics(),
        "text/plain; version=0.0.4");
  });
  const auto api =
      [this](void (sink_server::*handler)(const httplib::Request&, httplib::Response&)) {
        return [this, handler](const httplib::Request& request, httplib::Response& response) {
          if (authorized_for_api(request, response)) (this->*handler)(request, response);
        };
      };
  http.Get("/api/0/issues/?", api(&sink_server::list_issues));
  http.Get(R"(/api/0/issues/(\d+)/?)", api(&sink_server::show_issue));
  http.Get(R"(/api/0/issues/(\d+)/events/?)", api(&sink_server::issue_events));
  http.Put(R"(/api/0/issues/(\d+)/?)", api(&sink_server::update_issue));
  http.Get("/api/0/owners/?", api(&sink_server::list_owners));
  http.Get("/api/0/deliveries/?", api(&sink_server::list_deliveries));
  http.Get(R"(/api/0/deliveries/(\d+)/?)", api(&sink_server::show_delivery));
  http.Post(R"(/api/0/deliveries/(\d+)/replay/?)", api(&sink_server::replay));
  http.Get("/api/0/hooks/deliveries/?", api(&sink_server::list_tracker_hooks));
  http.Get("/api/0/targets/?", api(&sink_server::list_targets));
  // Authenticated by the tracker's own secret or signature, not the API token.
  http.Post(R"(/api/0/hooks/(youtrack|github)/([A-Za-z0-9_.-]+)/?)",
            [this](const httplib::Request& request, httplib::Response& response) {
              tracker_hook(request, response);
            });
  http.Get(R"(/api/0/projects/(\d+)/events/([0-9a-fA-F-]+)/?)", api(&sink_server::show_event));
  http.Get(R"(/api/0/projects/(\d+)/events/([0-9a-fA-F-]+)/attachments/(\d+)/?)",
           api(&sink_server::download_attachment));
}

void sink_server::ingest(const httplib::Request& request, httplib::Response& response,
                         bool envelope_endpoint, std::string raw_body) {
  const auto refuse = [&](const absl::Status& error) {
    response.status = http_status(error);
    metrics_.rejected(reason_for(response.status));
    response.set_header("X-Sentry-Error", std::string{error.message()});
    // An overloaded or stalled store: the sender should come back a little later.
    if (response.status == 503) response.set_header("Retry-After", "5");
    response.set_content(json_detail(error), "application/json");
    const log_level level = response.status >= 500 ? log_level::warning : log_level::debug;
    if (sink_log::enabled(level)) {
      sink_log::write(
          level, fmt::format("{} {} from {}: {} {}", request.method, request.path,
                             request.remote_addr, response.status, std::string{error.message()}));
    }
  };
  const std::string query_key = request.get_param_value("sentry_key");
  const std::string query_version = request.get_param_value("sentry_version");
  const std::string query_client = request.get_param_value("sentry_client");
  const std::string auth_header = request.get_header_value("X-Sentry-Auth");
  const std::string authorization = request.get_header_value("Authorization");
  const std::string user_agent = request.get_header_value("User-Agent");
  auth_inputs inputs{auth_header,  authorization, query_key, query_version,
                     query_client, user_agent,    {}};
  absl::StatusOr<credentials> sender = authenticate(inputs);
  // Without other credentials an envelope may carry its DSN: decode first, then retry.
  const bool may_use_dsn =
      envelope_endpoint && !sender.ok() &&
      absl::StrContains(sender.status().message(), "missing authorization information");
  if (!sender.ok() && !may_use_dsn) return refuse(sender.status());

  absl::StatusOr<std::string> body =
      decode_body(request.get_header_value(kEncodingHeader), std::move(raw_body),
                  config_.limits.max_decoded_bytes);
  if (!body.ok()) return refuse(body.status());

  envelope parsed;
  if (envelope_endpoint) {
    envelope_limits limits;
    limits.max_envelope_bytes = config_.limits.max_decoded_bytes;
    limits.max_items = config_.limits.max_items;
    limits.max_event_bytes = config_.limits.max_event_bytes;
    limits.max_attachment_bytes = config_.limits.max_attachment_bytes;
    absl::StatusOr<envelope> read = parse_envelope(*body, limits);
    if (!read.ok()) return refuse(read.status());
    parsed = *std::move(read);
    if (may_use_dsn) {
      inputs.envelope_dsn = parsed.dsn;
      sender = authenticate(inputs);
      if (!sender.ok()) return refuse(sender.status());
    }
  } else {
    if (body->size() > config_.limits.max_event_bytes) {
      return refuse(
          absl::OutOfRangeError(fmt::format("event of {} bytes exceeds max_event_bytes {}",
                                            body->size(), config_.limits.max_event_bytes)));
    }
    envelope_item event_item;
    event_item.type = "event";
    event_item.payload = *body;
    parsed.items.push_back(event_item);
  }

  const auto key = keys_.find(sender->public_key);
  if (key == keys_.end()) {
    return refuse(absl::PermissionDeniedError("unknown public key"));
  }
  const project_config& project = *key->second.project;
  std::uint64_t url_project = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &url_project));
  if (key->second.revoked) return refuse(absl::PermissionDeniedError("the key is revoked"));
  if (project.disabled) {
    return refuse(absl::PermissionDeniedError(fmt::format("project {} is disabled", project.id)));
  }
  if (project.id != url_project ||
      (sender->dsn_project_id && *sender->dsn_project_id != project.id)) {
    return refuse(absl::PermissionDeniedError(
        fmt::format("the key does not belong to project {}", url_project)));
  }

  const json_limits limits{config_.limits.max_json_depth, config_.limits.max_string_bytes};
  const std::int64_t received = unix_now_ms();
  std::string event_id;
  std::optional<rate_decision> limited;
  for (const envelope_item& item : parsed.items) {
    if (item.type == "event") {
      absl::StatusOr<rapidjson::Document> document = parse_json(item.payload, limits);
      if (!document.ok()) return refuse(document.status());
      absl::StatusOr<event_record> record =
          processor_.process(*document, item.payload, project, parsed.event_id, received);
      if (!record.ok()) return refuse(record.status());
      const rate_decision verdict = limiter_.admit(
          project, fmt::format("{}/{}/{}", record->team, record->function, record->product),
          rate_limiter::clock::now());
      if (!verdict.allowed) {
        limited = verdict;
        continue;
      }
      event_id = record->event_id;
      const auto started = std::chrono::steady_clock::now();
      absl::StatusOr<write_result> stored = db_.write(*std::move(record));
      metrics_.write_latency(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (!stored.ok()) return refuse(stored.status());
      metrics_.accepted("event");
    } else if (item.type == "client_report") {
      absl::StatusOr<rapidjson::Document> report = parse_json(item.payload, limits);
      if (!report.ok()) return refuse(report.status());
      const auto discarded =
          report->IsObject() ? report->FindMember("discarded_events") : report->MemberEnd();
      if (discarded != report->MemberEnd() && discarded->value.IsArray()) {
        for (const auto& entry : discarded->value.GetArray()) {
          if (!entry.IsObject() || !entry.HasMember("reason") || !entry["reason"].IsString() ||
              !entry.HasMember("category") || !entry["category"].IsString() ||
              !entry.HasMember("quantity") || !entry["quantity"].IsInt64()) {
            continue;
          }
          metrics_.discarded_by_sdk(entry["reason"].GetString(), entry["category"].GetString(),
                                    entry["quantity"].GetInt64());
        }
      }
      metrics_.accepted("client_report");
    } else if (item.type == "attachment") {
      if (!config_.store_attachments) {
        metrics_.rejected("attachments_disabled");
        continue;
      }
      attachment_record attachment;
      attachment.project_id = static_cast<std::int64_t>(project.id);
      attachment.event_id = parsed.event_id;
      attachment.filename = item.filename.empty() ? "attachment" : item.filename;
      attachment.content_type =
          item.content_type.empty() ? "application/octet-stream" : item.content_type;
      attachment.attachment_type =
          item.attachment_type.empty() ? "event.attachment" : item.attachment_type;
      attachment.received_ms = received;
      attachment.data = std::string{item.payload};
      if (absl::Status stored = db_.write_attachment(std::move(attachment)); !stored.ok()) {
        return refuse(stored);
      }
      metrics_.accepted("attachment");
    } else {
      // Transactions, spans and sessions are counted; what the sink keeps of them comes
      // with performance monitoring. Unknown types are skipped.
      metrics_.accepted(item.type);
    }
  }
  if (limited) {
    metrics_.rejected("rate_limited");
    const auto seconds = limited->retry_after.count();
    response.status = 429;
    response.set_header("Retry-After", std::to_string(seconds));
    response.set_header("X-Sentry-Rate-Limits", fmt::format("{}:error;default:{}:{}", seconds,
                                                            limited->scope, limited->reason));
    response.set_content(json_detail(fmt::format("rate limited ({})", limited->reason)),
                         "application/json");
    return;
  }
  response.set_content(event_id.empty() ? "{}" : fmt::format(R"({{"id":"{}"}})", event_id),
                       "application/json");
}

bool sink_server::authorized_for_api(const httplib::Request& request,
                                     httplib::Response& response) const {
  if (config_.api_token.empty()) return true;  // allowed on loopback only (config check)
  if (request.get_header_value("Authorization") == "Bearer " + config_.api_token) return true;
  response.status = 401;
  response.set_header("WWW-Authenticate", "Bearer");
  response.set_content(json_detail("a valid Bearer token is required"), "application/json");
  return false;
}

void sink_server::list_issues(const httplib::Request& request, httplib::Response& response) {
  issue_filter filter;
  filter.team = request.get_param_value("team");
  filter.function = request.get_param_value("function");
  filter.product = request.get_param_value("product");
  filter.status = request.get_param_value("status");
  filter.level = request.get_param_value("level");
  filter.environment = request.get_param_value("environment");
  filter.release = request.get_param_value("release");
  const auto bad = [&](const absl::Status& error) { answer_error(response, error); };
  for (const auto& [name, target] :
       {std::pair<const char*, std::optional<std::int64_t>*>{"project", &filter.project_id},
        {"since", &filter.seen_since_ms},
        {"until", &filter.seen_before_ms}}) {
    absl::StatusOr<std::optional<std::int64_t>> value = number_param(request, name);
    if (!value.ok()) return bad(value.status());
    *target = *value;
  }
  absl::StatusOr<std::optional<std::int64_t>> limit = number_param(request, "limit");
  if (!limit.ok()) return bad(limit.status());
  filter.limit = static_cast<int>(std::clamp<std::int64_t>(limit->value_or(100), 1, 1000));
  // The cursor is "<last_seen>:<id>" of the last issue of the previous page.
  if (request.has_param("cursor")) {
    const std::string cursor = request.get_param_value("cursor");
    const std::size_t colon = cursor.find(':');
    std::int64_t last_seen = 0;
    std::int64_t id = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(cursor.substr(0, colon), &last_seen) ||
        !absl::SimpleAtoi(cursor.substr(colon + 1), &id)) {
      return bad(absl::InvalidArgumentError("cursor must be <last_seen>:<id>"));
    }
    filter.after = {last_seen, id};
  }
  absl::StatusOr<std::vector<issue_row>> found = db_.issues(filter);
  if (!found.ok()) {
    answer_error(response, found.status());
    return;
  }
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  out.Key("issues");
  out.StartArray();
  for (const issue_row& issue : *found) write_issue(out, issue);
  out.EndArray();
  if (static_cast<int>(found->size()) == filter.limit) {
    write_string(out, "next_cursor",
                 fmt::format("{}:{}", found->back().last_seen_ms, found->back().id));
  }
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

void sink_server::show_issue(const httplib::Request& request, httplib::Response& response) {
  std::int64_t id = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &id));
  absl::StatusOr<std::optional<issue_row>> found = db_.issue(id);
  absl::StatusOr<std::vector<std::string>> latest = db_.issue_events(id, 1);
  absl::StatusOr<std::vector<facet_count>> facets = db_.issue_facets(id);
  absl::StatusOr<std::vector<issue_activity>> history = db_.issue_history(id);
  if (!found.ok() || !latest.ok() || !facets.ok() || !history.ok()) {
    const absl::Status error = !found.ok()    ? found.status()
                               : !latest.ok() ? latest.status()
                               : !facets.ok() ? facets.status()
                                              : history.status();
    answer_error(response, error);
    return;
  }
  if (!found->has_value()) {
    answer_error(response, 404, fmt::format("no issue {}", id));
    return;
  }
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  out.Key("issue");
  write_issue(out, **found);
  write_ticket(out, id);
  // {"level": [{"value": "error", "count": 3, ...}], "environment": [...], ...}
  out.Key("facets");
  out.StartObject();
  std::string open_facet;
  for (const facet_count& facet : *facets) {
    if (facet.facet != open_facet) {
      if (!open_facet.empty()) out.EndArray();
      out.Key(facet.facet.c_str(), static_cast<rapidjson::SizeType>(facet.facet.size()));
      out.StartArray();
      open_facet = facet.facet;
    }
    out.StartObject();
    write_string(out, "value", facet.value);
    write_int(out, "count", facet.count);
    write_int(out, "first_seen", facet.first_seen_ms);
    write_int(out, "last_seen", facet.last_seen_ms);
    out.EndObject();
  }
  if (!open_facet.empty()) out.EndArray();
  out.EndObject();
  out.Key("activity");
  out.StartArray();
  for (const issue_activity& change : *history) {
    out.StartObject();
    write_int(out, "at", change.at_ms);
    write_string(out, "actor", change.actor);
    write_string(out, "action", change.action);
    write_string(out, "detail", change.detail);
    out.EndObject();
  }
  out.EndArray();
  if (!latest->empty()) {
    out.Key("latest_event");
    out.RawValue(latest->front().data(), latest->front().size(), rapidjson::kObjectType);
  }
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

void sink_server::issue_events(const httplib::Request& request, httplib::Response& response) {
  std::int64_t id = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &id));
  absl::StatusOr<std::optional<std::int64_t>> limit = number_param(request, "limit");
  if (!limit.ok()) {
    answer_error(response, limit.status());
    return;
  }
  absl::StatusOr<std::vector<std::string>> events = db_.issue_events(
      id, static_cast<int>(std::clamp<std::int64_t>(limit->value_or(50), 1, 1000)));
  if (!events.ok()) {
    answer_error(response, events.status());
    return;
  }
  std::string body = "{\"events\":[";
  for (std::size_t i = 0; i < events->size(); ++i) {
    if (i > 0) body += ',';
    body += (*events)[i];
  }
  body += "]}";
  response.set_content(body, "application/json");
}

void sink_server::update_issue(const httplib::Request& request, httplib::Response& response) {
  std::int64_t id = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &id));
  const auto bad = [&](std::string_view message) { answer_error(response, 400, message); };
  absl::StatusOr<rapidjson::Document> body = parse_json(request.body, json_limits{});
  if (!body.ok()) return bad(std::string{body.status().message()});
  if (!body->IsObject() || !body->HasMember("status") || !(*body)["status"].IsString()) {
    return bad(R"(the body must be {"status": "resolved" | "resolved_in_next_release" | )"
               R"("unresolved" | "muted" | "unmuted", ...})");
  }
  status_change change;
  const std::string status = (*body)["status"].GetString();
  if (status == "resolved") {
    change.what = status_change::action::resolve;
  } else if (status == "resolved_in_next_release") {
    change.what = status_change::action::resolve_in_next_release;
  } else if (status == "unresolved") {
    change.what = status_change::action::unresolve;
  } else if (status == "unmuted") {
    change.what = status_change::action::unmute;
  } else if (status == "muted") {
    change.what = status_change::action::mute;
    for (const auto& [name, target] :
         {std::pair<const char*, std::optional<std::int64_t>*>{"until", &change.mute_until_ms},
          {"events", &change.mute_events}}) {
      if (!body->HasMember(name)) continue;
      if (!(*body)[name].IsInt64() || (*body)[name].GetInt64() <= 0) {
        return bad(fmt::format("{} must be a positive integer", name));
      }
      *target = (*body)[name].GetInt64();
    }
  } else {
    return bad(fmt::format("unknown status '{}'", status));
  }
  change.actor = body->HasMember("actor") && (*body)["actor"].IsString()
                     ? (*body)["actor"].GetString()
                     : "api";
  change.at_ms = unix_now_ms();
  absl::StatusOr<issue_row> changed = db_.change_status(id, change);
  if (!changed.ok()) {
    answer_error(response, changed.status());
    return;
  }
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  write_issue(out, *changed);
  response.set_content(buffer.GetString(), "application/json");
}

void sink_server::show_event(const httplib::Request& request, httplib::Response& response) {
  std::int64_t project = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &project));
  absl::StatusOr<std::string> id = normalize_event_id(request.matches[2].str());
  if (!id.ok()) {
    answer_error(response, id.status());
    return;
  }
  absl::StatusOr<std::optional<event_detail>> found = db_.event(project, *id);
  if (!found.ok()) {
    answer_error(response, found.status());
    return;
  }
  if (!found->has_value()) {
    answer_error(response, 404, fmt::format("no event {} in project {}", *id, project));
    return;
  }
  const event_detail& detail = **found;
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  write_int(out, "issue_id", detail.issue_id);
  out.Key("event");
  out.RawValue(detail.payload.data(), detail.payload.size(), rapidjson::kObjectType);
  out.Key("attachments");
  out.StartArray();
  for (const attachment_info& attachment : detail.attachments) {
    out.StartObject();
    write_int(out, "id", attachment.id);
    write_string(out, "filename", attachment.filename);
    write_string(out, "content_type", attachment.content_type);
    write_string(out, "attachment_type", attachment.attachment_type);
    write_int(out, "size", attachment.size);
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

void sink_server::download_attachment(const httplib::Request& request,
                                      httplib::Response& response) {
  std::int64_t project = 0;
  std::int64_t id = 0;
  static_cast<void>(absl::SimpleAtoi(request.matches[1].str(), &project));
  static_cast<void>(absl::SimpleAtoi(request.matches[3].str(), &id));
  absl::StatusOr<std::string> event_id = normalize_event_id(request.matches[2].str());
  absl::StatusOr<std::optional<attachment_record>> found =
      event_id.ok() ? db_.attachment(project, *event_id, id)
                    : absl::StatusOr<std::optional<attachment_record>>{event_id.status()};
  if (!found.ok()) {
    answer_error(response, found.status());
    return;
  }
  if (!found->has_value()) {
    answer_error(response, 404, "no such attachment");
    return;
  }
  std::string filename = (*found)->filename;  // sent by a client: no quotes or controls
  std::replace_if(
      filename.begin(), filename.end(),
      [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }, '_');
  response.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}\"", filename));
  response.set_content((*found)->data, (*found)->content_type.c_str());
}

void sink_server::list_owners(const httplib::Request&, httplib::Response& response) {
  absl::StatusOr<std::vector<owner_count>> counts = db_.owner_counts();
  if (!counts.ok()) {
    answer_error(response, counts.status());
    return;
  }
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  out.Key("owners");
  out.StartArray();
  for (const owner_count& count : *counts) {
    out.StartObject();
    write_int(out, "project_id", count.project_id);
    write_string(out, "team", count.team);
    write_string(out, "function", count.function);
    write_string(out, "product", count.product);
    write_string(out, "source", count.owner_source);
    write_int(out, "events", count.events);
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

}  // namespace warden::sink
