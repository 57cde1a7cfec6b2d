// The event model: what the SDK captures and sends, mirroring Sentry's event payload
// (develop docs, sdk/event-payloads) closely enough that events travel unchanged to
// warden-sink, self-hosted Sentry or sentry.io.
//
// Plain data with standard-library types only. Captured events reach before_send as an
// `event` the callback may change; custom events are built by hand:
//
//   warden::event deploy;
//   deploy.level = warden::level::info;
//   deploy.message = "deployment finished";
//   deploy.tags["release"] = "2026.11.24";
//   warden::capture_event(std::move(deploy));
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace warden {

/// Severity, as Sentry's `level`.
enum class level : unsigned char { debug, info, warning, error, fatal };

/// One stack frame, outermost caller first in a stack (Sentry's order: the last frame
/// is where the exception was thrown or the capture happened).
struct stack_frame {
  std::uintptr_t instruction_address = 0;  ///< Sent as "0x..." (instruction_addr).
  std::string function;                    ///< Demangled function name.
  std::string package;                     ///< Library or executable the frame is in.
  std::string filename;                    ///< Source file, when known.
  int line = 0;                            ///< Source line, 0 when unknown.
  bool in_app = false;                     ///< Application code, not a library.
};

/// How an exception was caught (Sentry's `mechanism`).
struct exception_mechanism {
  std::string type = "generic";  ///< e.g. "generic", "std::terminate", "signalhandler".
  bool handled = true;           ///< False for crashes and uncaught exceptions.
  bool synthetic = false;        ///< The type is made up (messages, signals): not for grouping.
  int exception_id = 0;          ///< Position in a chain of nested exceptions.
  std::optional<int> parent_id;  ///< The exception this one was nested in.
};

/// One exception of a chain (Sentry's `exception.values[]` entry).
struct exception_value {
  std::string type;                 ///< Demangled dynamic type, e.g. "std::runtime_error".
  std::string value;                ///< what().
  exception_mechanism mechanism;    ///< How it was caught.
  std::vector<stack_frame> frames;  ///< Outermost first; empty when no stack was taken.
};

/// Something that happened before an event, kept in a bounded ring and sent with it.
struct breadcrumb {
  /// When it happened; set when the breadcrumb is made.
  std::chrono::system_clock::time_point timestamp = std::chrono::system_clock::now();
  std::string type = "default";               ///< "default", "http", "navigation", "query", ...
  std::string category;                       ///< e.g. "db", "auth".
  std::string message;                        ///< What happened, for people.
  warden::level level = warden::level::info;  ///< How important it was.
  std::map<std::string, std::string> data;    ///< Details by key, e.g. "url", "status_code".
};

/// The user an event affected.
struct user_info {
  std::string id;          ///< The application's own user id.
  std::string email;       ///< Contact address, if the application may send it.
  std::string username;    ///< Display or login name.
  std::string ip_address;  ///< The user's address as the application saw it.
};

/// One error, message or crash. Fields left empty are not sent.
struct event {
  std::string event_id;  ///< 32 hex digits; filled in by capture when empty.
  /// When the event happened; set when the event is made.
  std::chrono::system_clock::time_point timestamp = std::chrono::system_clock::now();
  warden::level level = warden::level::error;  ///< Severity; a scope's level overrides it.
  std::string logger;                          ///< Name of the logger that produced it.

  std::string message;                      ///< The formatted message.
  std::string message_template;             ///< The format string, kept for grouping.
  std::vector<std::string> message_params;  ///< The arguments, as text.

  std::vector<exception_value> exceptions;  ///< Oldest (innermost cause) first.
  std::vector<stack_frame> stack;           ///< Capture-site stack of a message event.

  std::map<std::string, std::string> tags;   ///< Indexed, searchable values.
  std::map<std::string, std::string> extra;  ///< Additional unindexed data.
  /// Structured contexts by name ("os", "runtime", "device", "trace", ...), each a flat
  /// set of string fields.
  std::map<std::string, std::map<std::string, std::string>> contexts;
  std::optional<user_info> user;         ///< The affected user; else the scopes' user.
  std::vector<std::string> fingerprint;  ///< Overrides grouping; "{{ default }}" allowed.
  std::vector<breadcrumb> breadcrumbs;   ///< Oldest first.

  std::string release;      ///< Version of the application; empty: options.release.
  std::string environment;  ///< e.g. "production"; empty: options.environment.
  std::string dist;         ///< Build variant of the release; empty: options.dist.
  std::string server_name;  ///< Host the event came from; empty: options (host name).
  std::string transaction;  ///< Name of the operation the event happened in.
};

}  // namespace warden
