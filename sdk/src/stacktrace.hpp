// Stack traces: raw return addresses taken on the capturing thread (cheap, no
// allocation, usable from a signal handler), turned into named frames on the worker by a
// caching symbolizer. Internal to the SDK.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "warden/sdk/event.hpp"
#include "warden/sdk/options.hpp"

namespace warden::sdk::detail {

/// Return addresses of one stack, innermost first, as the unwinder found them.
struct raw_stack {
  static constexpr std::size_t kMaxFrames = 64;
  std::array<std::uintptr_t, kMaxFrames> addresses{};
  std::size_t size = 0;
};

/// Walks the calling thread's stack into `stack` and drops the frames above the one
/// returning into `caller` (the SDK's own frames), when it is found. No allocation; the
/// DWARF walk is what crash handlers use too (glibc's backtrace() does the same).
void unwind(stack_unwinder unwinder, const void* caller, raw_stack& stack) noexcept;

/// `stack` as frames, outermost first, carrying only their addresses: the worker's
/// symbolizer fills in the rest.
std::vector<stack_frame> unsymbolized_frames(const raw_stack& stack);

/// Remembers the stack of the last few throws on each thread, for the throw listener.
/// Installed by init() when options.throw_site_stacks is set and the hook is linked.
void record_throw_site_stacks(stack_unwinder unwinder, bool enabled) noexcept;

/// Copies the throw-site stack recorded on this thread for the exception object `object`
/// of dynamic type `type` into `stack`; false when none is known.
bool throw_site_stack(const void* object, const std::type_info& type, raw_stack& stack) noexcept;

/// The throw-site stack recorded on this thread for the exception object `object` (its
/// most derived address) of dynamic type `type`, as frames; empty when none is known.
std::vector<stack_frame> throw_site_frames(const void* object, const std::type_info& type);

/// Whether a frame of `function` in the library `package` is application code: it
/// starts with one of `prefixes` (function or library file name), or, without prefixes,
/// it is outside the C/C++ runtime and the system libraries.
bool is_in_app(const std::vector<std::string>& prefixes, std::string_view function,
               std::string_view package);

/// `name` without the suffixes the compiler gives clones of a function ("f() [clone
/// .cold]", "main.cold", "f.isra.0" -> "f()", "main", "f"), so that a function's hot and
/// cold parts group as one.
std::string without_clone_suffix(std::string name);

/// Names frames by address: function (demangled), package (the executable or library)
/// and in_app. Keeps what it looked up; used on the worker thread only.
class symbolizer final {
 public:
  explicit symbolizer(std::vector<std::string> in_app_prefixes);

  /// Completes every frame that has an address but no function or package yet.
  void complete(std::vector<stack_frame>& frames);
  /// Completes the frames of every stack in `target`.
  void complete(event& target);

 private:
  struct symbol {
    std::string function;
    std::string package;
    bool in_app = false;
  };
  const symbol& look_up(std::uintptr_t address);
  // Drops the innermost frames of the SDK's capture templates.
  static void trim_capture_frames(std::vector<stack_frame>& frames);

  std::vector<std::string> in_app_prefixes_;
  std::string executable_;  // the path of this program, for frames dladdr names relatively
  absl::flat_hash_map<std::uintptr_t, symbol> cache_;
};

}  // namespace warden::sdk::detail
