// What the sink's JSON API endpoints share: writing JSON fields, reading query
// parameters, and answering errors as {"detail": "..."} with their HTTP status.
#pragma once

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace warden::sink {

/// The writer every API answer is built with.
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// {"detail": detail}, the body of every error answer.
std::string json_detail(std::string_view detail);
/// {"detail": error's message}.
std::string json_detail(const absl::Status& error);

/// Answers `status` with a JSON {"detail": …} body.
void answer_error(httplib::Response& response, int status, std::string_view detail);
/// Answers `error` with its HTTP status (NotFound: 404, FailedPrecondition: 409) and
/// message.
void answer_error(httplib::Response& response, const absl::Status& error);

/// Writes "key": value.
void write_string(json_writer& out, std::string_view key, std::string_view value);
/// Writes "key": value.
void write_int(json_writer& out, std::string_view key, std::int64_t value);
/// Writes "key": value, or "key": null.
void write_optional_int(json_writer& out, std::string_view key,
                        const std::optional<std::int64_t>& value);

/// A query parameter as a number; nullopt when absent, InvalidArgument when not a number.
absl::StatusOr<std::optional<std::int64_t>> number_param(const httplib::Request& request,
                                                         const std::string& name);

/// The paging parameters of a log listing: `issue` (an issue id), `cursor` (rows older
/// than this id) and `limit` (1..1000, default 100).
struct log_page {
  std::optional<std::int64_t> issue_id;
  std::optional<std::int64_t> before_id;
  int limit = 100;
};
/// Reads them; InvalidArgument when one is not a number.
absl::StatusOr<log_page> log_page_params(const httplib::Request& request);

/// Answers a page of a log: {"deliveries": [each row by `write_row(out, row)`],
/// "next_cursor": "<the last row's id>"}, the cursor only when the page is full.
template <typename Row, typename WriteRow>
void answer_log_page(httplib::Response& response, const std::vector<Row>& rows, int limit,
                     WriteRow write_row) {
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  out.Key("deliveries");
  out.StartArray();
  for (const Row& row : rows) write_row(out, row);
  out.EndArray();
  if (!rows.empty() && rows.size() == static_cast<std::size_t>(limit)) {
    write_string(out, "next_cursor", std::to_string(rows.back().id));
  }
  out.EndObject();
  response.set_content(buffer.GetString(), "application/json");
}

}  // namespace warden::sink
