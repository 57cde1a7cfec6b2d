#include "stacktrace.hpp"

#include <dlfcn.h>
#include <unistd.h>
#include <unwind.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <new>
#include <string_view>
#include <typeinfo>

#include "absl/debugging/stacktrace.h"
#include "absl/debugging/symbolize.h"
#include "captured_event.hpp"
#include "warden/ownership/throw_hook.hpp"

namespace warden::sdk::detail {
namespace {

// Frames walked beyond kMaxFrames so that the SDK's own frames can be dropped and a
// full stack still remains.
constexpr std::size_t kWalkSlack = 16;
using walk_buffer = std::array<std::uintptr_t, raw_stack::kMaxFrames + kWalkSlack>;

struct dwarf_walk {
  walk_buffer* addresses;
  std::size_t size;
};

_Unwind_Reason_Code add_frame(_Unwind_Context* context, void* state) {
  auto& walk = *static_cast<dwarf_walk*>(state);
  if (walk.size == walk.addresses->size()) return _URC_END_OF_STACK;
  const _Unwind_Ptr address = _Unwind_GetIP(context);
  if (address == 0) return _URC_END_OF_STACK;
  (*walk.addresses)[walk.size++] = address;
  return _URC_NO_REASON;
}

std::size_t walk(stack_unwinder unwinder, walk_buffer& addresses) noexcept {
  switch (unwinder) {
    case stack_unwinder::dwarf: {
      dwarf_walk state{&addresses, 0};
      _Unwind_Backtrace(&add_frame, &state);
      return state.size;
    }
    case stack_unwinder::frame_pointer: {
      std::array<void*, std::tuple_size_v<walk_buffer>> frames{};
      const int depth = absl::GetStackTrace(frames.data(), static_cast<int>(frames.size()), 0);
      const auto size = static_cast<std::size_t>(std::max(depth, 0));
      for (std::size_t i = 0; i < size; ++i) {
        addresses[i] = reinterpret_cast<std::uintptr_t>(frames[i]);
      }
      return size;
    }
    case stack_unwinder::none:
      break;
  }
  return 0;
}

// The last throws on one thread with their stacks, newest overwriting oldest.
struct thrown_exception {
  const void* object = nullptr;
  const std::type_info* type = nullptr;
  std::uint64_t epoch = 0;
  raw_stack stack;
};
struct throw_ring {
  std::array<thrown_exception, 8> entries;
  std::size_t next = 0;
};

thread_local std::unique_ptr<throw_ring> recent_throws;
std::atomic<stack_unwinder> throw_unwinder{stack_unwinder::dwarf};
// Advanced whenever recording is switched on or off: throws recorded in an earlier epoch
// may have been followed by unrecorded ones at the same address, so they are ignored.
std::atomic<std::uint64_t> throw_epoch{1};

void remember_throw(const throw_event& thrown) noexcept {
  if (!recent_throws) {
    recent_throws.reset(new (std::nothrow) throw_ring);
    if (!recent_throws) return;
  }
  throw_ring& ring = *recent_throws;
  thrown_exception& entry = ring.entries[ring.next++ % ring.entries.size()];
  entry.object = thrown.object;
  entry.type = thrown.type;
  entry.epoch = throw_epoch.load(std::memory_order_relaxed);
  unwind(throw_unwinder.load(std::memory_order_relaxed), thrown.throw_site, entry.stack);
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Frames of the C and C++ runtimes and of system libraries: never application code.
bool system_frame(std::string_view function, std::string_view package) {
  for (const std::string_view prefix : {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"}) {
    if (starts_with(package, prefix)) return true;
  }
  if (starts_with(base_name(package), "linux-vdso")) return true;
  // Warden's own frames (its templates inlined into the program) are library code too.
  for (const std::string_view prefix : {"std::", "__gnu_cxx::", "__cxa", "__cxxabiv1::", "_Unwind",
                                        "__libc", "_start", "warden::"}) {
    if (starts_with(function, prefix)) return true;
  }
  return false;
}

// Whether `name` is the SDK's entry point that took the stack: a capture function
// template instantiated in the program, or the SDK itself.
bool capture_frame(std::string_view name) {
  return starts_with(name, "warden::capture_") || starts_with(name, "warden::sdk::");
}

std::string executable_path() {
  std::string path(4096, '\0');
  const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size());
  path.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
  return path;
}

}  // namespace

void unwind(stack_unwinder unwinder, const void* caller, raw_stack& stack) noexcept {
  walk_buffer addresses;
  const std::size_t depth = walk(unwinder, addresses);
  std::size_t first = 0;
  const auto target = reinterpret_cast<std::uintptr_t>(caller);
  for (std::size_t i = 0; i < depth && target != 0; ++i) {
    if (addresses[i] == target) {
      first = i;
      break;
    }
  }
  stack.size = std::min(depth - first, raw_stack::kMaxFrames);
  std::copy_n(addresses.begin() + static_cast<std::ptrdiff_t>(first), stack.size,
              stack.addresses.begin());
}

std::vector<stack_frame> unsymbolized_frames(const raw_stack& stack) {
  std::vector<stack_frame> frames(stack.size);
  for (std::size_t i = 0; i < stack.size; ++i) {
    frames[stack.size - 1 - i].instruction_address = stack.addresses[i];
  }
  return frames;
}

void record_throw_site_stacks(stack_unwinder unwinder, bool enabled) noexcept {
  throw_unwinder.store(unwinder, std::memory_order_relaxed);
  throw_epoch.fetch_add(1, std::memory_order_relaxed);
  set_throw_listener(enabled && unwinder != stack_unwinder::none ? &remember_throw : nullptr);
}

bool throw_site_stack(const void* object, const std::type_info& type, raw_stack& stack) noexcept {
  if (!recent_throws || object == nullptr) return false;
  const throw_ring& ring = *recent_throws;
  const std::uint64_t epoch = throw_epoch.load(std::memory_order_relaxed);
  for (std::size_t age = 1; age <= ring.entries.size() && age <= ring.next; ++age) {
    const thrown_exception& entry = ring.entries[(ring.next - age) % ring.entries.size()];
    // The type tells a recycled address of a later, unrecorded exception apart.
    if (entry.object == object && entry.epoch == epoch && entry.type != nullptr &&
        *entry.type == type) {
      stack = entry.stack;
      return true;
    }
  }
  return false;
}

std::vector<stack_frame> throw_site_frames(const void* object, const std::type_info& type) {
  raw_stack stack;
  if (!throw_site_stack(object, type, stack)) return {};
  return unsymbolized_frames(stack);
}

symbolizer::symbolizer(std::vector<std::string> in_app_prefixes)
    : in_app_prefixes_(std::move(in_app_prefixes)), executable_(executable_path()) {
  static const bool initialized = [this] {
    absl::InitializeSymbolizer(executable_.c_str());
    return true;
  }();
  static_cast<void>(initialized);
}

void symbolizer::complete(std::vector<stack_frame>& frames) {
  for (stack_frame& frame : frames) {
    if (frame.instruction_address == 0 || !frame.function.empty() || !frame.package.empty()) {
      continue;
    }
    const symbol& found = look_up(frame.instruction_address);
    frame.function = found.function;
    frame.package = found.package;
    frame.in_app = found.in_app;
  }
}

void symbolizer::complete(event& target) {
  // A stack taken at a capture call starts at the call, not inside the capture template.
  for (exception_value& exception : target.exceptions) {
    complete(exception.frames);
    trim_capture_frames(exception.frames);
  }
  complete(target.stack);
  trim_capture_frames(target.stack);
}

void symbolizer::trim_capture_frames(std::vector<stack_frame>& frames) {
  while (frames.size() > 1 && capture_frame(frames.back().function)) frames.pop_back();
}

const symbolizer::symbol& symbolizer::look_up(std::uintptr_t address) {
  constexpr std::size_t kMaxCached = 16384;  // about 1 MB; a long-running program's set
  if (const auto found = cache_.find(address); found != cache_.end()) return found->second;
  if (cache_.size() >= kMaxCached) cache_.clear();
  symbol named;
  // A return address points after its call; the call itself names the frame's function.
  void* const call = reinterpret_cast<void*>(address - 1);
  std::array<char, 1024> name{};
  if (absl::Symbolize(call, name.data(), static_cast<int>(name.size()))) {
    named.function = without_clone_suffix(name.data());
  }
  Dl_info library{};
  if (::dladdr(call, &library) != 0) {
    if (library.dli_fname != nullptr && library.dli_fname[0] == '/') {
      named.package = library.dli_fname;
    } else {
      named.package = executable_;  // the main program is named as it was started
    }
    if (named.function.empty() && library.dli_sname != nullptr) {
      named.function = without_clone_suffix(demangle(library.dli_sname));
    }
  }
  named.in_app = is_in_app(in_app_prefixes_, named.function, named.package);
  return cache_.emplace(address, std::move(named)).first->second;
}

std::string without_clone_suffix(std::string name) {
  // Demangled C++: "f() [clone .cold]", possibly several clones.
  constexpr std::string_view kClone = " [clone .";
  for (std::size_t clone = name.rfind(kClone);
       clone != std::string::npos && !name.empty() && name.back() == ']';
       clone = name.rfind(kClone)) {
    name.erase(clone);
  }
  // C names and names no demangler touched: "main.cold", "f.isra.0", "f.constprop.0.cold".
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return name;
  const auto identifier = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  const bool plain =
      std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(dot), identifier);
  const bool suffixes = std::all_of(name.begin() + static_cast<std::ptrdiff_t>(dot), name.end(),
                                    [&](char c) { return c == '.' || identifier(c); });
  if (plain && suffixes) name.erase(dot);
  return name;
}

bool is_in_app(const std::vector<std::string>& prefixes, std::string_view function,
               std::string_view package) {
  if (prefixes.empty()) return !system_frame(function, package);
  const std::string_view library = base_name(package);
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& prefix) {
    return starts_with(function, prefix) || starts_with(library, prefix);
  });
}

}  // namespace warden::sdk::detail
