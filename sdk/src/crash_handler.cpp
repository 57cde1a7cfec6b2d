// Everything reached from the signal handler is async-signal-safe: fixed buffers, no
// allocation, no locks, only open/read/write/fsync/rename/close/getpid/clock_gettime/
// sigaction/raise, absl::Symbolize (documented for signal handlers) and the DWARF walk
// (as glibc's backtrace(); it can block only if the crash happened inside the dynamic
// loader while it held its lock).
#include "crash_handler.hpp"

#include <cxxabi.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <typeinfo>

#include "absl/debugging/symbolize.h"
#include "captured_event.hpp"
#include "stacktrace.hpp"
#include "warden/ownership/exception.hpp"
#include "warden/ownership/scope.hpp"

namespace warden::sdk::detail {
namespace {

struct fatal_signal {
  int number;
  const char* name;
};
constexpr std::array<fatal_signal, 5> kFatalSignals{{{SIGSEGV, "SIGSEGV"},
                                                     {SIGBUS, "SIGBUS"},
                                                     {SIGILL, "SIGILL"},
                                                     {SIGFPE, "SIGFPE"},
                                                     {SIGABRT, "SIGABRT"}}};

constexpr std::size_t kPathBytes = 1024;
constexpr std::size_t kFixedBytes = 4096;
constexpr std::size_t kReportBytes = 64 * 1024;
constexpr std::size_t kAltStackBytes = 128 * 1024;

// Appends text and numbers to a fixed buffer, truncating at its end.
class report_writer {
 public:
  report_writer(char* buffer, std::size_t capacity) noexcept
      : buffer_(buffer), capacity_(capacity) {}

  void append(std::string_view text) noexcept {
    const std::size_t count = std::min(text.size(), capacity_ - size_);
    std::memcpy(buffer_ + size_, text.data(), count);
    size_ += count;
  }
  void append_unsigned(std::uint64_t value, unsigned base = 10) noexcept {
    std::array<char, 24> digits{};
    std::size_t used = 0;
    do {
      digits[digits.size() - 1 - used++] = "0123456789abcdef"[value % base];
      value /= base;
    } while (value != 0);
    if (base == 16) append("0x");
    append({digits.data() + digits.size() - used, used});
  }
  void append_signed(std::int64_t value) noexcept {
    if (value < 0) append("-");
    append_unsigned(value < 0 ? 0 - static_cast<std::uint64_t>(value)
                              : static_cast<std::uint64_t>(value));
  }
  /// `key value` on one line; line breaks inside the value become spaces.
  void field(std::string_view key, std::string_view value) noexcept {
    append(key);
    append(" ");
    for (const char c : value)
      append(c == '\n' || c == '\r' ? std::string_view{" "} : std::string_view{&c, 1});
    append("\n");
  }
  void number_field(std::string_view key, std::int64_t value) noexcept {
    append(key);
    append(" ");
    append_signed(value);
    append("\n");
  }

  const char* data() const noexcept { return buffer_; }
  std::size_t size() const noexcept { return size_; }

 private:
  char* buffer_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

// Set while the handlers are off (install/uninstall), read by the handlers.
struct handler_state {
  std::array<char, kPathBytes> directory{};
  std::array<char, kFixedBytes> fixed{};  // the settings' lines, rendered at install
  std::size_t fixed_size = 0;
  stack_unwinder unwinder = stack_unwinder::dwarf;
  std::array<struct sigaction, kFatalSignals.size()> previous{};
  std::terminate_handler previous_terminate = nullptr;
};

handler_state state;
std::array<char, kReportBytes> report_buffer;
std::atomic<bool> crashing{false};
std::mutex install_mu;
bool installed = false;                   // guarded by install_mu
std::unique_ptr<char[]> alternate_stack;  // guarded by install_mu; never freed while in use

bool write_all(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

// Appends this process's memory map, which tells which library each frame is in.
void copy_memory_map(int fd) noexcept {
  const int maps = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (maps < 0) return;
  std::array<char, 4096> chunk;
  for (;;) {
    const ssize_t count = ::read(maps, chunk.data(), chunk.size());
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    if (!write_all(fd, chunk.data(), static_cast<std::size_t>(count))) break;
  }
  ::close(maps);
}

// Writes `<directory>/<unix ms>-<pid>.crash` through a temporary name, so the next
// start never reads half a report.
void store_report(const report_writer& report, std::uint64_t unix_ms) noexcept {
  std::array<char, kPathBytes + 64> path_buffer{};
  report_writer path{path_buffer.data(), path_buffer.size() - 1};
  path.append(state.directory.data());
  path.append("/");
  path.append_unsigned(unix_ms);
  path.append("-");
  path.append_unsigned(static_cast<std::uint64_t>(::getpid()));
  path.append(kCrashReportSuffix);
  const std::size_t final_size = path.size();
  std::array<char, kPathBytes + 64> final_path{};
  std::memcpy(final_path.data(), path.data(), final_size);
  path.append(".tmp");
  path_buffer[path.size()] = '\0';

  const int fd = ::open(path_buffer.data(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool complete = write_all(fd, report.data(), report.size());
  if (complete) {
    complete = write_all(fd, "maps\n", 5);
    copy_memory_map(fd);
  }
  ::fsync(fd);
  ::close(fd);
  if (complete) {
    ::rename(path_buffer.data(), final_path.data());
  } else {
    ::unlink(path_buffer.data());
  }
}

std::uint64_t unix_milliseconds() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000 +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000000;
}

void begin_report(report_writer& out, std::string_view mechanism, std::uint64_t unix_ms) noexcept {
  out.append("warden-crash 1\n");
  out.field("mechanism", mechanism);
  out.number_field("timestamp_ms", static_cast<std::int64_t>(unix_ms));
  out.number_field("thread", static_cast<std::int64_t>(::syscall(SYS_gettid)));
  out.append({state.fixed.data(), state.fixed_size});
}

void owner_fields(report_writer& out, const owner* who) noexcept {
  if (who == nullptr) return;
  out.field("team", who->team());
  out.field("function", who->function());
  if (!who->product().empty()) out.field("product", who->product());
  out.append("owner_site ");
  out.append(who->site().file);
  out.append(":");
  out.append_unsigned(static_cast<std::uint64_t>(who->site().line));
  if (!who->site().name.empty()) {
    out.append(" (");
    out.append(who->site().name);
    out.append(")");
  }
  out.append("\n");
}

// `frame <address> <function>` per frame, innermost first. The first address of a
// signal's stack is the faulting instruction; the others are return addresses, named by
// the call just before them.
void frame_fields(report_writer& out, const raw_stack& stack, bool first_is_exact) noexcept {
  std::array<char, 512> name;
  for (std::size_t i = 0; i < stack.size; ++i) {
    const std::uintptr_t address = stack.addresses[i];
    out.append("frame ");
    out.append_unsigned(address, 16);
    const std::uintptr_t lookup = (i == 0 && first_is_exact) ? address : address - 1;
    if (absl::Symbolize(reinterpret_cast<void*>(lookup), name.data(),
                        static_cast<int>(name.size()))) {
      out.append(" ");
      out.append(name.data());
    }
    out.append("\n");
  }
}

const void* faulting_instruction(const void* context) noexcept {
  const auto* user = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return reinterpret_cast<const void*>(user->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const void*>(user->uc_mcontext.pc);
#else
  static_cast<void>(user);
  return nullptr;
#endif
}

// Gives the signal to the handler that was there before; with none, dies of it.
void pass_on(std::size_t index, int signal, siginfo_t* info, void* context) noexcept {
  struct sigaction previous = state.previous[index];
  if (previous.sa_handler == SIG_IGN) previous.sa_handler = SIG_DFL;
  ::sigaction(signal, &previous, nullptr);
  if ((previous.sa_flags & SA_SIGINFO) != 0) {
    previous.sa_sigaction(signal, info, context);
  } else if (previous.sa_handler != SIG_DFL) {
    previous.sa_handler(signal);
  } else {
    ::raise(signal);  // blocked while this handler runs: delivered when it returns
  }
}

void on_fatal_signal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  std::size_t index = 0;
  while (index + 1 < kFatalSignals.size() && kFatalSignals[index].number != signal) ++index;
  if (!crashing.exchange(true)) {
    const std::uint64_t now = unix_milliseconds();
    report_writer out{report_buffer.data(), report_buffer.size()};
    begin_report(out, "signalhandler", now);
    out.field("type", kFatalSignals[index].name);
    out.number_field("signal", signal);
    out.number_field("code", info != nullptr ? info->si_code : 0);
    if (info != nullptr) {
      out.append("address ");
      out.append_unsigned(reinterpret_cast<std::uintptr_t>(info->si_addr), 16);
      out.append("\n");
    }
    owner_fields(out, try_current_owner());
    const void* instruction = faulting_instruction(context);
    raw_stack stack;
    unwind(state.unwinder, instruction, stack);
    frame_fields(
        out, stack,
        stack.size > 0 && stack.addresses[0] == reinterpret_cast<std::uintptr_t>(instruction));
    store_report(out, now);
  }
  errno = saved_errno;
  pass_on(index, signal, info, context);
}

// std::terminate: normal code runs here, but the program is failing, so it stays small.
[[noreturn]] void on_terminate() {
  if (!crashing.exchange(true)) {
    const std::uint64_t now = unix_milliseconds();
    report_writer out{report_buffer.data(), report_buffer.size()};
    begin_report(out, "std::terminate", now);
    const owner* thrower = nullptr;
    raw_stack stack;
    bool have_stack = false;
    if (const std::exception_ptr uncaught = std::current_exception()) {
      thrower = thrown_owner(uncaught);
      try {
        std::rethrow_exception(uncaught);
      } catch (const std::exception& error) {
        out.field("type", exception_type_name(typeid(error).name()));
        out.field("value", error.what());
        have_stack = throw_site_stack(dynamic_cast<const void*>(&error), typeid(error), stack);
      } catch (...) {
        const std::type_info* type = abi::__cxa_current_exception_type();
        out.field("type", type != nullptr ? exception_type_name(type->name()) : "unknown");
        out.field("value", "(not a std::exception)");
      }
    } else {
      out.field("type", "std::terminate");
      out.field("value", "std::terminate called without an active exception");
    }
    owner_fields(out, thrower != nullptr ? thrower : try_current_owner());
    // Without a recorded throw-site stack, this one: an exception that no handler catches
    // calls std::terminate before unwinding, so the throw site is still on the stack.
    if (!have_stack) unwind(state.unwinder, nullptr, stack);
    frame_fields(out, stack, false);
    store_report(out, now);
  }
  if (state.previous_terminate != nullptr) state.previous_terminate();
  std::abort();
}

bool copy_text(std::string_view text, char* target, std::size_t capacity) {
  if (text.size() >= capacity) return false;
  std::memcpy(target, text.data(), text.size());
  target[text.size()] = '\0';
  return true;
}

}  // namespace

bool install_crash_handlers(const crash_settings& settings) {
  const std::lock_guard<std::mutex> lock{install_mu};
  handler_state next;
  if (!copy_text(settings.directory, next.directory.data(), next.directory.size())) return false;
  report_writer fixed{next.fixed.data(), next.fixed.size()};
  fixed.field("release", settings.release);
  fixed.field("environment", settings.environment);
  fixed.field("dist", settings.dist);
  fixed.field("server_name", settings.server_name);
  if (fixed.size() == next.fixed.size()) return false;
  next.fixed_size = fixed.size();
  next.unwinder = settings.unwinder;

  // Resolve what the handlers call lazily (the symbolizer's set-up, the unwinder's first
  // use loads libgcc_s data) now, outside any signal handler.
  raw_stack warm_up;
  unwind(settings.unwinder, nullptr, warm_up);

  if (installed) {
    next.previous = state.previous;
    next.previous_terminate = state.previous_terminate;
    state = next;
    return true;
  }
  state = next;
  stack_t current{};
  if (!alternate_stack && ::sigaltstack(nullptr, &current) == 0 &&
      (current.ss_flags & SS_DISABLE) != 0) {  // keep one the application set
    alternate_stack = std::make_unique<char[]>(kAltStackBytes);
    stack_t stack{};
    stack.ss_sp = alternate_stack.get();
    stack.ss_size = kAltStackBytes;
    ::sigaltstack(&stack, nullptr);
  }
  struct sigaction action {};
  action.sa_sigaction = &on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    ::sigaction(kFatalSignals[i].number, &action, &state.previous[i]);
  }
  state.previous_terminate = std::set_terminate(&on_terminate);
  crashing.store(false);
  installed = true;
  return true;
}

void uninstall_crash_handlers() {
  const std::lock_guard<std::mutex> lock{install_mu};
  if (!installed) return;
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    ::sigaction(kFatalSignals[i].number, &state.previous[i], nullptr);
  }
  std::set_terminate(state.previous_terminate);
  installed = false;
}

}  // namespace warden::sdk::detail
