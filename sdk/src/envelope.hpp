// Events to Sentry envelopes: the JSON payload, client-side size limits (truncate,
// never fail) and the envelope framing. Pure functions of their input, no I/O, so the
// transport can be tested without a socket. Internal to the SDK.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "warden/sdk/event.hpp"

namespace warden::sdk::detail {

/// Client-side limits, below Sentry's server-side ones so that nothing is refused.
struct payload_limits {
  std::size_t max_message_bytes = 8192;     ///< message, template, exception value
  std::size_t max_string_bytes = 1024;      ///< other strings (function names, extras...)
  std::size_t max_tag_value_bytes = 200;    ///< Sentry's tag value limit
  std::size_t max_breadcrumbs = 100;        ///< newest kept
  std::size_t max_frames = 256;             ///< per stack; outermost and innermost kept
  std::size_t max_event_bytes = 1'000'000;  ///< Sentry refuses event items over 1 MB
};

/// Who is sending, for the envelope and event `sdk` fields.
struct sdk_identity {
  std::string_view name = "warden.cpp";
  std::string_view version;
};

/// The event as Sentry JSON, fitted within `limits.max_event_bytes` by dropping
/// breadcrumbs, then extras, then frames from the middle of stacks, then shortening
/// strings. Invalid UTF-8 becomes U+FFFD. `event.event_id` must be set.
std::string event_payload(const event& event, const sdk_identity& sdk,
                          const payload_limits& limits = {});

/// A complete envelope holding one event item: header line (event_id, sent_at, sdk and
/// the trace context when the event has one), item header with `length`, payload.
std::string event_envelope(const event& event, const sdk_identity& sdk,
                           std::chrono::system_clock::time_point sent_at,
                           std::string_view public_key, const payload_limits& limits = {});

/// An envelope's header line, newline included: sent_at and sdk, and for an event its
/// event_id and the trace context when it has one. `event` may be nullptr (envelopes of
/// client reports, sessions).
std::string envelope_header(std::chrono::system_clock::time_point sent_at, const sdk_identity& sdk,
                            const event* event = nullptr, std::string_view public_key = {});

/// Appends an item (header with `type` and `length`, payload, newline) to `envelope`.
void append_item(std::string& envelope, std::string_view type, std::string_view payload);

/// RFC 3339 UTC with milliseconds, as Sentry's SDKs write sent_at: 2026-11-24T12:00:00.123Z
std::string rfc3339(std::chrono::system_clock::time_point time);

/// Sentry's name for a level ("debug", "info", "warning", "error", "fatal").
std::string_view level_name(level value) noexcept;

}  // namespace warden::sdk::detail
