// warden-sink: a Sentry-compatible sink on SQLite.
//
//   warden-sink                                 # 127.0.0.1:9000, ./warden-sink.db, one project
//   warden-sink --config sink.yaml --listen 0.0.0.0:9000
//   warden-sink --config sink.yaml --check-config
//
// SIGTERM and SIGINT stop it gracefully: requests in progress finish and everything
// acknowledged is committed before it exits.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "alerting/alerting_service.hpp"
#include "server/config.hpp"
#include "server/log.hpp"
#include "server/sink_server.hpp"
#include "store/clock.hpp"
#include "store/store.hpp"

ABSL_FLAG(std::string, config, "", "YAML configuration file; without it, the defaults");
ABSL_FLAG(std::string, listen, "", "host:port to listen on (overrides the config)");
ABSL_FLAG(std::string, database, "", "SQLite database file (overrides the config)");
ABSL_FLAG(std::string, log_level, "", "debug, info, warning or error (overrides the config)");
ABSL_FLAG(bool, check_config, false, "Validate the configuration, print every error, exit");

namespace {

using warden::sink::sink_config;

constexpr const char* kDefaultKeySetting = "default_project_key";

// A fresh public key: 32 hex digits, as Sentry's.
std::string new_public_key() {
  absl::BitGen random;
  return fmt::format("{:016x}{:016x}", absl::Uniform<std::uint64_t>(random),
                     absl::Uniform<std::uint64_t>(random));
}

// With no project configured, one project whose key is generated once and kept in the
// database, so its DSN survives restarts.
absl::Status add_default_project(sink_config& config, warden::sink::store& db) {
  if (!config.projects.empty()) return absl::OkStatus();
  absl::StatusOr<std::optional<std::string>> kept = db.setting(kDefaultKeySetting);
  if (!kept.ok()) return kept.status();
  std::string key = kept->value_or("");
  if (key.empty()) {
    key = new_public_key();
    if (absl::Status saved = db.put_setting(kDefaultKeySetting, key); !saved.ok()) return saved;
  }
  warden::sink::project_config project;
  project.id = 1;
  project.name = "default";
  project.keys.push_back({key, false});
  config.projects.push_back(std::move(project));
  return absl::OkStatus();
}

// Where the sink is reached: public_url, else the listen address.
std::string base_url(const sink_config& config, int port) {
  if (!config.public_url.empty()) return config.public_url;
  const std::string host = config.listen.substr(0, config.listen.rfind(':'));
  return fmt::format("http://{}:{}", host == "0.0.0.0" ? "127.0.0.1" : host, port);
}

void print_dsns(const sink_config& config, int port) {
  const std::string base = base_url(config, port);
  const std::size_t scheme = base.find("://");
  for (const auto& project : config.projects) {
    for (const auto& key : project.keys) {
      if (key.revoked) continue;
      std::printf("warden-sink: project %llu (%s) DSN %s\n",
                  static_cast<unsigned long long>(project.id), project.name.c_str(),
                  fmt::format("{}{}@{}/{}", base.substr(0, scheme + 3), key.public_key,
                              base.substr(scheme + 3), project.id)
                      .c_str());
    }
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A Sentry-compatible sink on SQLite: groups errors into issues by owner.\n"
      "Usage: warden-sink [--config sink.yaml] [--listen host:port] [--database file]");
  // Flags are written with dashes (--check-config) as well as Abseil's underscores.
  std::vector<std::string> arguments{argv, argv + argc};
  std::vector<char*> flag_argv;
  for (std::string& argument : arguments) {
    if (argument.rfind("--", 0) == 0) {
      const std::size_t name_end = std::min(argument.find('='), argument.size());
      std::replace(argument.begin() + 2, argument.begin() + static_cast<std::ptrdiff_t>(name_end),
                   '-', '_');
    }
    flag_argv.push_back(argument.data());
  }
  absl::ParseCommandLine(static_cast<int>(flag_argv.size()), flag_argv.data());

  sink_config config;
  const std::string config_path = absl::GetFlag(FLAGS_config);
  if (!config_path.empty()) {
    warden::sink::config_result loaded = warden::sink::load_config(config_path);
    for (const auto& error : loaded.errors) {
      std::fprintf(stderr, "%s\n", error.to_string(config_path).c_str());
    }
    if (!loaded.config) return 2;
    config = *std::move(loaded.config);
  }
  if (const std::string listen = absl::GetFlag(FLAGS_listen); !listen.empty()) {
    config.listen = listen;
  }
  if (const std::string database = absl::GetFlag(FLAGS_database); !database.empty()) {
    config.database = database;
  }
  if (const std::string level = absl::GetFlag(FLAGS_log_level); !level.empty()) {
    config.log_level = level;
  }
  const std::optional<warden::sink::log_level> level =
      warden::sink::sink_log::parse_level(config.log_level);
  if (!level) {
    std::fprintf(stderr, "--log_level: '%s' is not debug, info, warning or error\n",
                 config.log_level.c_str());
    return 2;
  }
  warden::sink::sink_log::set_level(*level);
  if (absl::GetFlag(FLAGS_check_config)) {
    std::printf("%s: configuration OK\n", config_path.empty() ? "defaults" : config_path.c_str());
    return 0;
  }

  // Signals are taken by one thread with sigwait(); every other thread blocks them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Alerting writes its rows in the transactions of the events that fire it.
  std::unique_ptr<warden::sink::alerting_service> alerting;
  if (!config.alerting.trackers.empty() || !config.alerting.receivers.empty()) {
    absl::StatusOr<std::unique_ptr<warden::sink::alerting_service>> made =
        warden::sink::alerting_service::create(config.alerting);
    if (!made.ok()) {
      std::fprintf(stderr, "warden-sink: %s\n", std::string{made.status().message()}.c_str());
      return 1;
    }
    alerting = *std::move(made);
  }

  warden::sink::store_options storage;
  storage.path = config.database;
  if (alerting) storage.hooks = alerting->hooks();
  storage.durable = config.storage.durable;
  storage.max_events_per_issue = config.storage.max_events_per_issue;
  storage.retention = std::chrono::hours{24 * config.storage.retention_days};
  absl::StatusOr<std::unique_ptr<warden::sink::store>> db = warden::sink::store::open(storage);
  if (!db.ok()) {
    std::fprintf(stderr, "warden-sink: %s\n", std::string{db.status().message()}.c_str());
    return 1;
  }
  if (absl::Status added = add_default_project(config, **db); !added.ok()) {
    std::fprintf(stderr, "warden-sink: %s\n", std::string{added.message()}.c_str());
    return 1;
  }

  warden::sink::sink_server server{config, **db};
  if (absl::Status bound = server.bind(); !bound.ok()) {
    std::fprintf(stderr, "warden-sink: %s\n", std::string{bound.message()}.c_str());
    return 1;
  }
  std::printf("warden-sink: listening on port %d, database %s\n", server.port(),
              config.database.c_str());
  print_dsns(server.config(), server.port());
  if (alerting) {
    if (absl::Status started = alerting->start(**db, base_url(server.config(), server.port()));
        !started.ok()) {
      std::fprintf(stderr, "warden-sink: %s\n", std::string{started.message()}.c_str());
      return 1;
    }
    server.on_replay([&] { alerting->wake(); });
  }

  std::mutex mu;
  std::condition_variable stopped;
  bool stopping = false;
  std::thread signals{[&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    std::printf("warden-sink: signal %d, stopping\n", received);
    std::fflush(stdout);
    {
      const std::lock_guard<std::mutex> lock{mu};
      stopping = true;
    }
    stopped.notify_all();
    server.stop();
  }};
  // Retention runs at start and then hourly.
  std::thread retention{[&] {
    std::unique_lock<std::mutex> lock{mu};
    do {
      lock.unlock();
      const std::int64_t now = warden::sink::unix_now_ms();
      absl::StatusOr<std::int64_t> deleted = (*db)->apply_retention(now);
      if (!deleted.ok()) {
        warden::sink::sink_log::write(
            warden::sink::log_level::error,
            fmt::format("retention failed: {}", std::string{deleted.status().message()}));
      } else if (*deleted > 0) {
        warden::sink::sink_log::write(
            warden::sink::log_level::info,
            fmt::format("retention deleted {} events and attachments", *deleted));
      }
      if (alerting) {
        absl::StatusOr<std::int64_t> pruned = alerting->prune_log(now);
        if (!pruned.ok()) {
          warden::sink::sink_log::write(warden::sink::log_level::error,
                                        fmt::format("pruning the delivery log failed: {}",
                                                    std::string{pruned.status().message()}));
        } else if (*pruned > 0) {
          warden::sink::sink_log::write(
              warden::sink::log_level::info,
              fmt::format("the delivery log's retention deleted {} deliveries", *pruned));
        }
      }
      lock.lock();
    } while (!stopped.wait_for(lock, std::chrono::hours{1}, [&] { return stopping; }));
  }};

  server.run();
  {
    // Not stopped by a signal (the listener failed): wake the signal thread.
    std::unique_lock<std::mutex> lock{mu};
    if (!stopping) {
      lock.unlock();
      kill(getpid(), SIGTERM);
    }
  }
  signals.join();
  retention.join();
  if (alerting) alerting->stop();  // before the store closes
  std::printf("warden-sink: stopped\n");
  return 0;
}
