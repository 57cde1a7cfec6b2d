#include "client.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/random/random.h"
#include "crash_handler.hpp"
#include "curl_transport.hpp"
#include "event_id.hpp"
#include "stacktrace.hpp"
#include "warden/ownership/scope.hpp"

#ifndef WARDEN_SDK_VERSION
#error "WARDEN_SDK_VERSION is set by sdk/CMakeLists.txt"
#endif

namespace warden::sdk::detail {
namespace {

std::mutex active_mu;  // constant-initialized; see worker.hpp for why not absl::Mutex
std::shared_ptr<client>* active ABSL_GUARDED_BY(active_mu) = nullptr;  // never freed: no
                                                                       // destruction order
std::uint64_t active_generation ABSL_GUARDED_BY(active_mu) = 0;
std::atomic<bool> running{false};

std::string from_environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string{value} : std::string{};
}

void fill_from_environment(options& settings) {
  if (settings.dsn.empty()) settings.dsn = from_environment("WARDEN_DSN");
  if (settings.dsn.empty()) settings.dsn = from_environment("SENTRY_DSN");
  if (settings.release.empty()) settings.release = from_environment("SENTRY_RELEASE");
  if (settings.environment.empty()) settings.environment = from_environment("SENTRY_ENVIRONMENT");
  if (settings.environment.empty()) settings.environment = "production";
  if (settings.server_name.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) settings.server_name = host;
  }
}

// Takes the running client out of the global slot if `generation` names it (0: any).
std::shared_ptr<client> take_active(std::uint64_t generation) {
  const std::lock_guard<std::mutex> lock{active_mu};
  if (active == nullptr || !*active) return nullptr;
  if (generation != 0 && generation != active_generation) return nullptr;
  running.store(false, std::memory_order_relaxed);
  record_throw_site_stacks(stack_unwinder::none, false);
  uninstall_crash_handlers();
  return std::exchange(*active, nullptr);
}

}  // namespace

void start_process_hooks(const options& settings) {
  record_throw_site_stacks(settings.unwinder, settings.throw_site_stacks);
  if (!settings.handle_crashes || settings.cache_directory.empty()) {
    uninstall_crash_handlers();
    return;
  }
  const crash_settings crash{settings.cache_directory, settings.release,
                             settings.environment,     settings.dist,
                             settings.server_name,     settings.unwinder};
  if (!install_crash_handlers(crash) && settings.debug_logger) {
    settings.debug_logger(level::warning,
                          "crash handlers not installed: cache directory path or release too long");
  }
}

void close_generation(std::uint64_t generation) {
  if (generation == 0) return;
  if (const auto closing = take_active(generation)) {
    closing->close(closing->settings().shutdown_timeout);
  }
}

absl::StatusOr<std::shared_ptr<client>> client::start(options settings) {
  fill_from_environment(settings);
  if (settings.dsn.empty()) return std::shared_ptr<client>{};
  absl::StatusOr<dsn> target = parse_dsn(settings.dsn);
  if (!target.ok()) return target.status();
  if (settings.sample_rate < 0 || settings.sample_rate > 1) {
    return absl::InvalidArgumentError(
        fmt::format("sample_rate must be between 0 and 1, not {}", settings.sample_rate));
  }
  worker_config config;
  config.target = *std::move(target);
  config.identity = {"warden.cpp", WARDEN_SDK_VERSION};
  config.defaults = {settings.release, settings.environment, settings.dist, settings.server_name,
                     system_contexts()};
  if (!settings.cache_directory.empty()) {
    auto cache = disk_cache::open(settings.cache_directory, settings.cache_max_bytes,
                                  settings.cache_max_envelopes);
    if (!cache.ok()) return cache.status();
    config.cache = *std::move(cache);
  }
  config.sender = settings.custom_transport;
  if (!config.sender) {
    config.sender = std::make_shared<curl_transport>(
        curl_settings{settings.http_proxy, settings.ca_bundle, settings.connect_timeout});
  }
  config.queue_capacity = std::max<std::size_t>(settings.queue_capacity, 1);
  config.max_in_flight = std::max<std::size_t>(settings.max_concurrent_requests, 1);
  config.request_timeout = settings.request_timeout;
  config.retry_initial_delay = settings.retry_initial_delay;
  config.retry_max_delay = settings.retry_max_delay;
  config.max_attempts = settings.max_attempts;
  config.client_report_interval = settings.client_report_interval;
  config.before_send = settings.before_send;
  config.debug_logger = settings.debug_logger;
  config.in_app_prefixes = settings.in_app_prefixes;
  return std::shared_ptr<client>{new client(std::move(settings), std::move(config))};
}

client::client(options settings, worker_config config)
    : options_(std::move(settings)),
      global_scope_(std::make_shared<const scope>()),
      worker_(std::move(config), counters_) {}

bool client::sampled() noexcept {
  if (options_.sample_rate >= 1.0) return true;
  thread_local absl::InsecureBitGen generator;
  if (absl::Uniform<double>(generator, 0.0, 1.0) < options_.sample_rate) return true;
  counters_.record(discard_reason::sample_rate, data_category::error);
  return false;
}

std::string client::submit(std::unique_ptr<captured_event> item) {
  event& target = item->event;
  if (target.event_id.empty()) target.event_id = new_event_id().to_hex();
  if (item->capturer == nullptr) item->capturer = warden::try_current_owner();
  {
    const std::lock_guard<std::mutex> lock{scope_mu_};
    item->global_scope = global_scope_;
  }
  item->thread_scope = thread_scope_slot();
  {
    const std::lock_guard<std::mutex> lock{breadcrumbs_mu_};
    item->breadcrumbs.assign(breadcrumbs_.begin(), breadcrumbs_.end());
  }
  std::string id = target.event_id;
  if (!worker_.enqueue(std::move(item))) {
    counters_.record(discard_reason::queue_overflow, data_category::error);
    return {};
  }
  captured_.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void client::configure_scope(const std::function<void(scope&)>& configure) {
  const std::lock_guard<std::mutex> lock{scope_mu_};
  auto changed = std::make_shared<scope>(*global_scope_);
  configure(*changed);
  global_scope_ = std::move(changed);
}

void client::add_breadcrumb(breadcrumb crumb) {
  if (options_.before_breadcrumb && !options_.before_breadcrumb(crumb)) return;
  auto shared = std::make_shared<const breadcrumb>(std::move(crumb));
  const std::lock_guard<std::mutex> lock{breadcrumbs_mu_};
  breadcrumbs_.push_back(std::move(shared));
  while (breadcrumbs_.size() > options_.max_breadcrumbs) breadcrumbs_.pop_front();
}

bool client::flush(std::chrono::milliseconds timeout) {
  return worker_.flush(std::chrono::steady_clock::now() + timeout);
}

bool client::close(std::chrono::milliseconds timeout) {
  return worker_.close(std::chrono::steady_clock::now() + timeout);
}

sdk_statistics client::statistics() const {
  sdk_statistics stats;
  stats.captured = captured_.load(std::memory_order_relaxed);
  stats.delivered = worker_.delivered();
  stats.unowned = worker_.unowned();
  stats.cached = worker_.cached();
  const auto totals = counters_.totals();
  for (std::size_t reason = 0; reason < totals.size(); ++reason) {
    if (totals[reason] == 0) continue;
    stats.dropped[std::string{discard_reason_name(static_cast<discard_reason>(reason))}] =
        totals[reason];
  }
  return stats;
}

std::shared_ptr<client> active_client() {
  if (!running.load(std::memory_order_relaxed)) return nullptr;
  const std::lock_guard<std::mutex> lock{active_mu};
  return active != nullptr ? *active : nullptr;
}

std::shared_ptr<const scope>& thread_scope_slot() {
  thread_local std::shared_ptr<const scope> slot;
  return slot;
}

}  // namespace warden::sdk::detail

namespace warden {

using sdk::detail::active_client;
using sdk::detail::client;

sdk_guard::sdk_guard(sdk_guard&& other) noexcept
    : generation_(std::exchange(other.generation_, 0)), error_(std::move(other.error_)) {}

sdk_guard& sdk_guard::operator=(sdk_guard&& other) noexcept {
  if (this != &other) {
    sdk::detail::close_generation(generation_);
    generation_ = std::exchange(other.generation_, 0);
    error_ = std::move(other.error_);
  }
  return *this;
}

sdk_guard::~sdk_guard() { sdk::detail::close_generation(generation_); }

bool sdk_guard::active() const noexcept {
  const std::lock_guard<std::mutex> lock{sdk::detail::active_mu};
  return generation_ != 0 && generation_ == sdk::detail::active_generation &&
         sdk::detail::active != nullptr && *sdk::detail::active;
}

bool sdk_guard::flush(std::chrono::milliseconds timeout) {
  return active() ? warden::flush(timeout) : false;
}

bool sdk_guard::close(std::chrono::milliseconds timeout) {
  const std::shared_ptr<client> closing = sdk::detail::take_active(generation_);
  generation_ = 0;
  return closing ? closing->close(timeout) : false;
}

sdk_guard init(options settings) {
  sdk_guard guard;
  const auto logger = settings.debug_logger;
  absl::StatusOr<std::shared_ptr<client>> started = client::start(std::move(settings));
  if (!started.ok()) {
    guard.error_ = std::string{started.status().message()};
    if (logger) logger(level::error, fmt::format("warden::init failed: {}", guard.error_));
    return guard;
  }
  if (!*started) {
    if (logger) logger(level::info, "warden::init: no DSN, the SDK stays disabled");
    return guard;
  }
  std::shared_ptr<client> previous;
  {
    const std::lock_guard<std::mutex> lock{sdk::detail::active_mu};
    if (sdk::detail::active == nullptr) sdk::detail::active = new std::shared_ptr<client>;
    previous = std::exchange(*sdk::detail::active, *std::move(started));
    sdk::detail::start_process_hooks((*sdk::detail::active)->settings());
    guard.generation_ = ++sdk::detail::active_generation;
    sdk::detail::running.store(true, std::memory_order_relaxed);
  }
  if (previous) previous->close(previous->settings().shutdown_timeout);
  return guard;
}

bool flush(std::chrono::milliseconds timeout) {
  const auto running_client = active_client();
  return running_client ? running_client->flush(timeout) : true;
}

sdk_statistics statistics() {
  const auto running_client = active_client();
  return running_client ? running_client->statistics() : sdk_statistics{};
}

}  // namespace warden
