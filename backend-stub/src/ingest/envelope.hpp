// Sentry envelopes (develop docs sdk/envelopes.mdx, "Serialization Format"), split into
// items exactly as Relay splits them, within size limits. Pure: no I/O, no threads.
//
//   Envelope = Headers { "\n" Item } [ "\n" ] ;
//   Item     = Headers "\n" Payload ;
//
// Headers are one line of JSON, an object. An item header must name its "type"; with a
// "length" the payload is exactly that many bytes and must be followed by "\n" or the
// end; without, it runs to the next "\n" or the end (a "\r" before that "\n" stays in
// the payload). One newline may follow the last item; an empty line where an item
// header is due is malformed (the grammar has no empty items). Unknown item types and
// unknown header attributes are kept.
//
// Example:
//   absl::StatusOr<warden::sink::envelope> parsed = warden::sink::parse_envelope(body);
//   if (!parsed.ok()) return reply(warden::sink::http_status(parsed.status()), ...);
//   for (const warden::sink::envelope_item& item : parsed->items)
//     if (item.type == "event") store_event(parsed->event_id, item.payload);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"

namespace warden::sink {

/// What one envelope may hold. Defaults are sentry.io's documented limits where there is
/// one (develop docs "Size Limits"), else Relay's or Bugsink's; every one passed is
/// OutOfRange (413) naming the field, so that the SDK records the drop as a send error
/// instead of retrying.
struct envelope_limits {
  /// The whole decoded envelope: 100 MiB (docs "100 MB after decompression", Bugsink
  /// MAX_ENVELOPE_SIZE). Also the limit to pass to decode_body().
  std::size_t max_envelope_bytes = 100 * 1024 * 1024;
  /// One header line, envelope or item: 8 KiB (Bugsink MAX_HEADER_SIZE). Real headers
  /// are under 1 KiB; a longer "line" is usually a payload read as a header.
  std::size_t max_header_bytes = 8 * 1024;
  /// Items in one envelope: 1000. Relay counts only some types; a cap on all keeps the
  /// item list (about 200 bytes an item) small for an envelope of tiny items.
  std::size_t max_items = 1000;
  /// `session` items in one envelope: 100 (docs; Relay max_session_count).
  std::size_t max_sessions = 100;
  /// One event-like item (event, transaction, security, raw_security, replay_event,
  /// user_report_v2, form_data, and a `span` that is not a container): 1 MiB (docs
  /// "1 MB per event/transaction/span item"; Relay max_event_size, Bugsink).
  std::size_t max_event_bytes = 1024 * 1024;
  /// One container item, any other item with an `item_count` (span v2, log and
  /// trace_metric batches): 12 MiB (Relay max_container_size).
  std::size_t max_container_bytes = 12 * 1024 * 1024;
  /// One `attachment` item: 100 MiB (docs, Bugsink MAX_ATTACHMENT_SIZE; Relay allows 200).
  std::size_t max_attachment_bytes = 100 * 1024 * 1024;
};

/// One item of an envelope. Owns its strings except `payload`.
struct envelope_item {
  std::string type;         ///< The header's "type", e.g. "event", "span", "session".
  std::string header_json;  ///< The header line as received, to store or forward as is.
  /// The payload bytes, pointing into the body given to parse_envelope(): valid only as
  /// long as that body is. Not parsed; event payloads go through parse_json().
  std::string_view payload;
  std::string content_type;  ///< "content_type" if given, e.g. the span v2 media type.
  /// "filename" if given. The docs require one on attachments; the sink does not, so that
  /// a crash report is not lost for the want of a name.
  std::string filename;
  std::string attachment_type;  ///< "attachment_type" if given, e.g. "event.minidump".
  std::size_t item_count = 0;   ///< "item_count" of a container item; 0 if absent.
};

/// A parsed envelope. Checked: headers are JSON objects, item types are named, sizes are
/// within limits, at most one `event` or `transaction` item.
struct envelope {
  /// The header's event_id as 32 lowercase hex digits (dashes removed). Empty when
  /// absent: the docs require it with an event, transaction or attachment, but the
  /// sink is tolerant and lets the caller make one (the payload may still carry one).
  std::string event_id;
  std::string dsn;                   ///< The header's "dsn" (self-authentication), or empty.
  std::string sdk_name;              ///< The header's sdk.name, or empty.
  std::string sdk_version;           ///< The header's sdk.version, or empty.
  std::string header_json;           ///< The header line as received.
  std::vector<envelope_item> items;  ///< In the order received.
};

/// Splits `body`, an envelope already decoded with decode_body(). InvalidArgument (400)
/// for a malformed envelope, with the byte offset and the item's ordinal; OutOfRange
/// (413) over a limit, naming it and the actual size. The items' payloads point into
/// `body`, which must outlive the result.
[[nodiscard]] absl::StatusOr<envelope> parse_envelope(std::string_view body,
                                                      const envelope_limits& limits = {});

/// Deleted for a temporary std::string (such as `*decode_body(...)`), whose bytes the
/// payloads would point into after it is gone: keep the body in a variable.
template <typename String, typename = std::enable_if_t<std::is_same_v<String, std::string>>>
absl::StatusOr<envelope> parse_envelope(String&& body, const envelope_limits& limits = {}) = delete;

/// An event id as Sentry writes it in responses: 32 lowercase hex digits. Accepts 32 hex
/// digits or the dashed 8-4-4-4-12 UUID form, in any case, the two forms the docs allow;
/// anything else is InvalidArgument (400). For envelope headers and for the event_id of
/// /store/ bodies.
[[nodiscard]] absl::StatusOr<std::string> normalize_event_id(std::string_view text);

}  // namespace warden::sink
