#include "server/api_json.hpp"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "ingest/status.hpp"

namespace warden::sink {

std::string json_detail(std::string_view detail) {
  rapidjson::StringBuffer buffer;
  json_writer out{buffer};
  out.StartObject();
  out.Key("detail");
  out.String(detail.data(), static_cast<rapidjson::SizeType>(detail.size()));
  out.EndObject();
  return buffer.GetString();
}

std::string json_detail(const absl::Status& error) {
  return json_detail(std::string{error.message()});
}

void answer_error(httplib::Response& response, int status, std::string_view detail) {
  response.status = status;
  response.set_content(json_detail(detail), "application/json");
}

void answer_error(httplib::Response& response, const absl::Status& error) {
  const int status = absl::IsNotFound(error)             ? 404
                     : absl::IsFailedPrecondition(error) ? 409
                                                         : http_status(error);
  answer_error(response, status, std::string{error.message()});
}

void write_string(json_writer& out, std::string_view key, std::string_view value) {
  out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  out.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void write_int(json_writer& out, std::string_view key, std::int64_t value) {
  out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  out.Int64(value);
}

void write_optional_int(json_writer& out, std::string_view key,
                        const std::optional<std::int64_t>& value) {
  out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  if (value) {
    out.Int64(*value);
  } else {
    out.Null();
  }
}

absl::StatusOr<std::optional<std::int64_t>> number_param(const httplib::Request& request,
                                                         const std::string& name) {
  if (!request.has_param(name)) return std::optional<std::int64_t>{};
  std::int64_t value = 0;
  if (!absl::SimpleAtoi(request.get_param_value(name), &value)) {
    return absl::InvalidArgumentError(fmt::format("parameter {} must be a number", name));
  }
  return std::optional<std::int64_t>{value};
}

absl::StatusOr<log_page> log_page_params(const httplib::Request& request) {
  log_page page;
  for (const auto& [name, target] :
       {std::pair<const char*, std::optional<std::int64_t>*>{"issue", &page.issue_id},
        {"cursor", &page.before_id}}) {
    absl::StatusOr<std::optional<std::int64_t>> value = number_param(request, name);
    if (!value.ok()) return value.status();
    *target = *value;
  }
  absl::StatusOr<std::optional<std::int64_t>> limit = number_param(request, "limit");
  if (!limit.ok()) return limit.status();
  page.limit = static_cast<int>(std::clamp<std::int64_t>(limit->value_or(100), 1, 1000));
  return page;
}

}  // namespace warden::sink
