// What the trackers' request builders and answer parsers share (youtrack.cpp, github.cpp,
// jira.cpp, webhook_tracker.cpp, webhook.cpp): JSON writing and reading with RapidJSON,
// URL text, the JSON request every REST tracker is sent, custom field values expanded
// and split into lists, and the fallback line that says why a request failed when the
// answer is no error body of the tracker's. Internal to warden_sink_targets.
//
//   rapidjson::StringBuffer buffer;
//   detail::json_writer out(buffer);
//   out.StartObject();
//   detail::write_member(out, "body", text);
//   out.EndObject();
//   http_request request = detail::json_request(
//       "POST", detail::base_url(config.url) + "/repos/o/r/issues",
//       {{"Authorization", "Bearer " + config.token.reveal()}}, detail::json_text(buffer));
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/alerting_config.hpp"
#include "targets/http.hpp"
#include "targets/ticket_text.hpp"

namespace warden::sink::detail {

/// Compact JSON into a string buffer, as every request body is written.
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Writes `text` as a JSON string (a key or a value).
void write_string(json_writer& out, std::string_view text);
/// Writes the member "key": "value".
void write_member(json_writer& out, std::string_view key, std::string_view value);
/// Writes the member "key": ["item", ...].
void write_string_array(json_writer& out, std::string_view key,
                        const std::vector<std::string>& items);
/// The compact JSON object whose members `write_members` writes, e.g. {"body": "..."}.
[[nodiscard]] std::string json_object(const std::function<void(json_writer&)>& write_members);
/// What `buffer` holds, as a string.
[[nodiscard]] std::string json_text(const rapidjson::StringBuffer& buffer);

/// `body` parsed; InvalidArgument "<what>: <tracker>'s answer is not JSON (error at byte
/// N)" when it is not JSON.
[[nodiscard]] absl::StatusOr<rapidjson::Document> parse_json(std::string_view body,
                                                             std::string_view what,
                                                             std::string_view tracker);
/// Reads the ticket in one issue of a tracker's answer, nullopt when it is not all there.
using ticket_reader = std::function<std::optional<created_ticket>(const rapidjson::Value&)>;

/// The ticket `read` finds in the JSON answer `body` to a create; InvalidArgument
/// "create issue: <tracker>'s answer has no <needed>: <body's start>" when `body` is no
/// JSON or `read` finds none.
[[nodiscard]] absl::StatusOr<created_ticket> created_ticket_in(std::string_view body,
                                                               std::string_view tracker,
                                                               std::string_view needed,
                                                               const ticket_reader& read);
/// The first ticket that `pick` finds among the elements of the array member `list` of
/// the JSON object `body` (a search answer's hits), nullopt when it finds none;
/// InvalidArgument naming `tracker` when `body` is no JSON object with that array.
[[nodiscard]] absl::StatusOr<std::optional<created_ticket>> first_search_hit(
    std::string_view body, const char* list, std::string_view tracker, const ticket_reader& pick);
/// The string member `name` of `object`, or "" when `object` is no object or the member
/// is absent or not a string.
[[nodiscard]] std::string_view string_member(const rapidjson::Value& object, const char* name);

/// `url` without its trailing slashes, to append "/api/..." to.
[[nodiscard]] std::string base_url(std::string_view url);
/// RFC 3986 percent-encoding of everything but the unreserved characters, for a query
/// value or a path segment.
[[nodiscard]] std::string url_encode(std::string_view text);

/// A request to a tracker's JSON API: `method` `url` with `headers` (authorization,
/// Accept, ...), then `User-Agent: warden-sink`, then `Content-Type: application/json`
/// when there is a body.
[[nodiscard]] http_request json_request(std::string method, std::string url,
                                        std::vector<std::pair<std::string, std::string>> headers,
                                        std::string body);

/// The value of `field` expanded with `values`; InvalidArgument naming the field when
/// its template is bad.
[[nodiscard]] absl::StatusOr<std::string> expand_field(const custom_field_config& field,
                                                       const template_values& values);
/// The items of a comma-separated list ("a, b,,c" → a, b, c): trimmed, empty ones left out.
[[nodiscard]] std::vector<std::string> split_list(std::string_view text);

/// Appends `value` to `list` unless it is empty or already there (labels, assignees).
void add_unique(std::vector<std::string>& list, std::string value);

/// `text` as one line of at most `max_bytes` bytes (cut with truncate_utf8), for a log.
[[nodiscard]] std::string excerpt(std::string_view text, std::size_t max_bytes);

/// Why a request failed when the answer says nothing `tracker` would: "no answer from
/// <tracker>: <transport error>", "HTTP 502 (empty body)", or the status and the first
/// 200 bytes of the body on one line ("HTTP 502: <html> ...").
[[nodiscard]] std::string generic_error_message(const http_response& response,
                                                std::string_view tracker);

}  // namespace warden::sink::detail
