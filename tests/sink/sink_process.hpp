// The real warden-sink binary as a child process for tests: started with a config file
// and a database in a temporary directory, listening on a port the system picks (read
// back from its first line of output), stopped with SIGTERM or killed with SIGKILL.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/temp_directory.hpp"

namespace warden::testing {

/// warden-sink running as a child. The destructor kills it if it still runs.
class sink_process final {
 public:
  /// Starts `binary` with `arguments` (plus --listen 127.0.0.1:0 unless given) and waits
  /// until it prints its port; `output` collects what it printed.
  sink_process(const std::string& binary, std::vector<std::string> arguments) {
    bool has_listen = false;
    for (const auto& argument : arguments) has_listen |= argument.rfind("--listen", 0) == 0;
    if (!has_listen) arguments.push_back("--listen=127.0.0.1:0");
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      // Dies with the test: a test that crashed must not leave a sink holding its pipes.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(binary.c_str()));
      for (auto& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    output_ = ::fdopen(out[0], "r");
    // Reads lines until the port is known or the child ends.
    char line[4096];
    while (output_ != nullptr && std::fgets(line, sizeof line, output_) != nullptr) {
      lines_.emplace_back(line);
      int port = 0;
      if (std::sscanf(line, "warden-sink: listening on port %d", &port) == 1) {
        port_ = port;
        break;
      }
    }
    // Keeps draining its output so the child never blocks on a full pipe.
    reader_ = std::thread{[this] {
      char more[4096];
      while (std::fgets(more, sizeof more, output_) != nullptr) {
      }
    }};
  }
  ~sink_process() {
    if (running()) kill(SIGKILL);
    if (reader_.joinable()) reader_.join();
    if (output_ != nullptr) std::fclose(output_);
  }
  sink_process(const sink_process&) = delete;
  sink_process& operator=(const sink_process&) = delete;

  /// The port it listens on; 0 when it did not start.
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// What it printed before it listened (DSNs).
  const std::vector<std::string>& startup_output() const { return lines_; }
  /// Whether it still runs (reaps it when it has died).
  bool running() {
    if (pid_ > 0 && !exited_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    return pid_ > 0 && !exited_;
  }

  /// Sends `signal` and waits for the exit; returns the wait status.
  int kill(int signal) {
    if (!running()) return status_;
    ::kill(pid_, signal);
    ::waitpid(pid_, &status_, 0);
    exited_ = true;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = 0;
  bool exited_ = false;
  std::FILE* output_ = nullptr;
  std::vector<std::string> lines_;
  std::thread reader_;
};

}  // namespace warden::testing
