// Fatal errors end to end: a real child process starts the SDK and crashes (signals,
// stack overflow, uncaught exception); the report it leaves in the cache directory is
// sent by the next start to a real HTTP sink, with the crashing thread's owner and stack.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sink_fixture.hpp"
#include "warden/sdk.hpp"

extern char** environ;

using namespace std::chrono_literals;
using warden::testing::events;
using warden::testing::fresh_directory;
using warden::testing::has_frame;
using warden::testing::options_for;
using warden::testing::recording_server;
using warden::testing::tag;
using warden::testing::text;

namespace {

struct child_result {
  bool signaled = false;
  int signal = 0;
  int exit_code = -1;
};

// Runs the crash child; sanitizers are told to leave the fatal signals to the program.
child_result run_child(const std::string& mode, const std::filesystem::path& directory) {
  const std::string marker = (directory / "marker").string();
  const std::string cache = directory.string();
  std::vector<std::string> environment_text{
      "ASAN_OPTIONS=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:"
      "handle_abort=0:detect_leaks=0",
      "UBSAN_OPTIONS=halt_on_error=0"};
  for (char** variable = environ; *variable != nullptr; ++variable) {
    const std::string text = *variable;
    if (text.rfind("ASAN_OPTIONS=", 0) != 0 && text.rfind("UBSAN_OPTIONS=", 0) != 0) {
      environment_text.push_back(text);
    }
  }
  std::vector<char*> environment;
  for (auto& text : environment_text) environment.push_back(text.data());
  environment.push_back(nullptr);
  std::string program = WARDEN_CRASH_CHILD;
  std::string mode_argument = mode;
  std::string cache_argument = cache;
  std::string marker_argument = marker;
  char* arguments[] = {program.data(), mode_argument.data(), cache_argument.data(),
                       marker_argument.data(), nullptr};
  pid_t child = 0;
  REQUIRE(::posix_spawn(&child, program.c_str(), nullptr, nullptr, arguments, environment.data()) ==
          0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  child_result result;
  result.signaled = WIFSIGNALED(status);
  if (result.signaled) result.signal = WTERMSIG(status);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::size_t count_files(const std::filesystem::path& directory, const std::string& extension) {
  std::size_t count = 0;
  for (const auto& file : std::filesystem::directory_iterator(directory)) {
    if (file.path().extension() == extension) ++count;
  }
  return count;
}

// Starts the SDK on the crashed child's cache directory and returns what the sink got.
std::vector<rapidjson::Document> next_start(const std::filesystem::path& directory) {
  recording_server server;
  auto options = options_for(server);
  options.release = "inventory@10.0.0";  // the report must keep the crashed release
  options.cache_directory = directory.string();
  auto sdk = warden::init(std::move(options));
  REQUIRE(sdk.ok());
  REQUIRE(sdk.flush(10s));
  return events(server);
}

// The crashed exception of a fatal event.
const rapidjson::Value& crashed(const rapidjson::Value& event) {
  return event["exception"]["values"][0];
}

// The checks every crash report must pass: fatal, unhandled, the crashed release, the
// owner of the crashing thread.
void check_crash_event(const rapidjson::Value& event, const std::string& type,
                       const std::string& mechanism) {
  CHECK(text(event, "level") == "fatal");
  CHECK(text(event, "release") == "inventory@9.9.9");
  CHECK(tag(event, "team") == "inventory");
  CHECK(tag(event, "function") == "backend");
  CHECK(tag(event, "product") == "stock");
  CHECK(text(event["contexts"]["ownership"], "source") == "crash");
  const auto& exception = crashed(event);
  CHECK(text(exception, "type") == type);
  CHECK(text(exception["mechanism"], "type") == mechanism);
  CHECK_FALSE(exception["mechanism"]["handled"].GetBool());
}

}  // namespace

TEST_CASE("a segmentation fault is reported at the next start with its owner and stack") {
  const auto directory = fresh_directory("segv");
  const child_result result = run_child("segv", directory);
  CHECK(result.signaled);
  CHECK(result.signal == SIGSEGV);  // the default action still ends the program
  REQUIRE(count_files(directory, ".crash") == 1);

  const auto all = next_start(directory);
  REQUIRE(all.size() == 1);
  check_crash_event(all[0], "SIGSEGV", "signalhandler");
  const auto& exception = crashed(all[0]);
  CHECK(exception["mechanism"]["synthetic"].GetBool());
  CHECK(text(exception, "value").find("Segmentation fault") == 0);
  CHECK(text(exception, "value").find("address 0x0") != std::string::npos);
  const auto& frames = exception["stacktrace"]["frames"];
  REQUIRE(frames.Size() >= 2);
  // The crashing frame is the last one, named, in the child's executable, in_app.
  const auto& innermost = frames[frames.Size() - 1];
  CHECK(text(innermost, "function") == "inventory::corrupt_stock_record()");
  CHECK(text(innermost, "package").find("warden_crash_child") != std::string::npos);
  CHECK(innermost["in_app"].GetBool());
  CHECK(has_frame(exception, "main"));
  CHECK(count_files(directory, ".crash") == 0);  // sent and removed
}

TEST_CASE("every fatal signal is reported and the program still dies of it") {
  struct expected_crash {
    const char* mode;
    int signal;
    const char* type;
  };
  for (const expected_crash& crash :
       {expected_crash{"abort", SIGABRT, "SIGABRT"}, expected_crash{"fpe", SIGFPE, "SIGFPE"},
        expected_crash{"ill", SIGILL, "SIGILL"}, expected_crash{"bus", SIGBUS, "SIGBUS"}}) {
    const std::string mode = crash.mode;
    CAPTURE(mode);
    const auto directory = fresh_directory(crash.mode);
    const child_result result = run_child(crash.mode, directory);
    CHECK(result.signaled);
    CHECK(result.signal == crash.signal);
    const auto all = next_start(directory);
    REQUIRE(all.size() == 1);
    check_crash_event(all[0], crash.type, "signalhandler");
    CHECK(has_frame(crashed(all[0]), "inventory::divide_stock()"));
  }
}

TEST_CASE("a stack overflow is reported from the alternate signal stack") {
  const auto directory = fresh_directory("overflow");
  const child_result result = run_child("stack-overflow", directory);
  CHECK(result.signaled);
  CHECK(result.signal == SIGSEGV);
  const auto all = next_start(directory);
  REQUIRE(all.size() == 1);
  check_crash_event(all[0], "SIGSEGV", "signalhandler");
  CHECK(has_frame(crashed(all[0]), "inventory::recurse_forever()"));
}

TEST_CASE("an uncaught exception is reported with its type, message and throw site") {
  const auto directory = fresh_directory("uncaught");
  const child_result result = run_child("uncaught", directory);
  CHECK(result.signaled);
  CHECK(result.signal == SIGABRT);  // std::terminate's default still aborts
  const auto all = next_start(directory);
  REQUIRE(all.size() == 1);  // one report, not a second one for the SIGABRT
  check_crash_event(all[0], "std::runtime_error", "std::terminate");
  const auto& exception = crashed(all[0]);
  CHECK(text(exception, "value") == "stock record corrupted");
  CHECK_FALSE(exception["mechanism"]["synthetic"].GetBool());
  CHECK(has_frame(exception, "inventory::divide_stock()"));
}

TEST_CASE("the handler that was installed before the SDK's still runs") {
  const auto directory = fresh_directory("chained");
  const child_result result = run_child("chained-segv", directory);
  CHECK(result.exit_code == 42);  // the application's handler ended the program
  CHECK(std::filesystem::exists(directory / "marker"));
  const auto all = next_start(directory);
  REQUIRE(all.size() == 1);
  check_crash_event(all[0], "SIGSEGV", "signalhandler");
}

TEST_CASE("an unreadable crash report is skipped and removed, the others are sent") {
  const auto directory = fresh_directory("garbage");
  std::ofstream{directory / "1-1.crash"} << "not a crash report\n";
  const child_result result = run_child("segv", directory);
  CHECK(result.signaled);
  const auto all = next_start(directory);
  REQUIRE(all.size() == 1);
  check_crash_event(all[0], "SIGSEGV", "signalhandler");
  CHECK(count_files(directory, ".crash") == 0);
}
