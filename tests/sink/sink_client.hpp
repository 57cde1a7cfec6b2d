// What the doctest suites that drive the real warden-sink share: an HTTP client of its
// port, JSON answers, waiting for a condition, event ids, files and commands
// (sink_process.hpp starts it).
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

#include "sink_process.hpp"

namespace warden::testing {

/// A client of the sink's HTTP port that leaves bodies as they are sent.
inline httplib::Client client_for(const sink_process& sink) {
  httplib::Client client{"127.0.0.1", sink.port()};
  client.set_read_timeout(10, 0);
  client.set_decompress(false);
  return client;
}

/// `text` parsed; fails the test when it is not JSON.
inline rapidjson::Document json_of(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

/// The JSON the sink answers a GET of `path` with; fails the test unless it is a 200.
inline rapidjson::Document get_json(httplib::Client& client, const std::string& path) {
  const auto answer = client.Get(path);
  REQUIRE(answer);
  REQUIRE(answer->status == 200);
  return json_of(answer->body);
}

/// Polls `condition` until it holds (true) or `timeout` passes (false): what a process
/// test waits for, never a fixed sleep.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return true;
}

/// Event id number `n`: 32 hex digits.
inline std::string event_id(int n) {
  char text[33];
  std::snprintf(text, sizeof text, "%032x", n);
  return text;
}

/// The bytes of the file at `path`; empty when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream file{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{file}, {}};
}

/// What a command printed (stdout and stderr) and its exit code.
struct command_result {
  int exit_code = -1;
  std::string output;
};

/// Runs `command` with the shell and waits for it.
inline command_result run_command(const std::string& command) {
  command_result result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace warden::testing
