// Which issue an event belongs to. Events with the same group key are one issue:
//
// - an explicit `fingerprint` wins; an element "{{ default }}" stands for the default
//   key below, other elements may use {{ type }}, {{ value }}, {{ message }},
//   {{ transaction }}, {{ level }}, {{ function }}, {{ module }} and {{ tags.NAME }};
// - else the exceptions: each one's type (not when mechanism.synthetic) and its frames
//   as module-or-file plus function, without line numbers or addresses, in-app frames
//   only unless none is in app; its normalized value only when no frame contributes;
// - else the message template (`logentry.message`), normalized;
// - else the message, normalized (see normalize.hpp).
// An exception without a type (captureMessage's synthetic one) stands for the message
// when the event has one. The owner is hashed in too, so two teams never share an
// issue, and so is the grouping version, so the algorithm can change without merging
// old and new issues by accident.
//
// Example:
//
//   const event_owner owner = resolve_owner(event, rules, fallback);
//   const group_key key = compute_group_key(event, owner);
//   // key.hash names the issue; key.title and key.culprit describe it; key.kind and
//   // key.components tell why the event landed there.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "grouping/owner.hpp"

namespace warden::sink {

/// The grouping algorithm's version, stored with each issue. Bump it whenever a change
/// would give an existing kind of event a different hash.
inline constexpr int kGroupingVersion = 1;

/// Titles and culprits are cut to this many bytes (at a UTF-8 character boundary).
inline constexpr std::size_t kMaxTitleBytes = 256;

/// Which strategy produced a group key.
enum class grouping_kind {
  fingerprint,       ///< The event's own `fingerprint`.
  exception,         ///< Exception types and stack frames (or values).
  message_template,  ///< `logentry.message`, the message before formatting.
  message,           ///< The formatted message.
};

/// The stable name of `kind` ("fingerprint", "exception", "template", "message"), for
/// the store and the API.
std::string_view grouping_kind_name(grouping_kind kind) noexcept;

/// An event's group key and the summary shown for its issue.
struct group_key {
  /// 64 lowercase hex digits: SHA-256 of the version, the owner and the components.
  std::string hash;
  /// The strategy that chose the components.
  grouping_kind kind = grouping_kind::message;
  /// The human-readable parts that were hashed, e.g. "type: TypeError",
  /// "frame: capture | main", "message: order <int> failed"; shown by the API to
  /// explain why events were grouped.
  std::vector<std::string> components;
  /// e.g. "TypeError: boom value 42", or the first line of the message.
  std::string title;
  /// Where it happened: the innermost in-app frame's function, else the transaction.
  std::string culprit;
  /// kGroupingVersion when the key was computed.
  int version = kGroupingVersion;
};

/// The group key of `event` (a parsed Sentry event) owned by `owner`. Never fails:
/// missing or mistyped fields are treated as absent. Pure and thread-safe.
group_key compute_group_key(const rapidjson::Value& event, const event_owner& owner);

}  // namespace warden::sink
