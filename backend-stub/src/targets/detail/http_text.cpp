// JSON, URL and error text shared by the trackers' request builders and parsers.
#include "targets/detail/http_text.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace warden::sink::detail {

void write_string(json_writer& out, std::string_view text) {
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void write_member(json_writer& out, std::string_view key, std::string_view value) {
  write_string(out, key);
  write_string(out, value);
}

void write_string_array(json_writer& out, std::string_view key,
                        const std::vector<std::string>& items) {
  write_string(out, key);
  out.StartArray();
  for (const std::string& item : items) write_string(out, item);
  out.EndArray();
}

std::string json_object(const std::function<void(json_writer&)>& write_members) {
  rapidjson::StringBuffer buffer;
  json_writer out(buffer);
  out.StartObject();
  write_members(out);
  out.EndObject();
  return json_text(buffer);
}

std::string json_text(const rapidjson::StringBuffer& buffer) {
  return {buffer.GetString(), buffer.GetSize()};
}

absl::StatusOr<rapidjson::Document> parse_json(std::string_view body, std::string_view what,
                                               std::string_view tracker) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}'s answer is not JSON (error at byte {})",
                                                  what, tracker, document.GetErrorOffset()));
  }
  return document;
}

absl::StatusOr<created_ticket> created_ticket_in(std::string_view body, std::string_view tracker,
                                                 std::string_view needed,
                                                 const ticket_reader& read) {
  absl::StatusOr<rapidjson::Document> issue = parse_json(body, "create issue", tracker);
  if (!issue.ok()) return issue.status();
  std::optional<created_ticket> ticket = read(*issue);
  if (!ticket) {
    return absl::InvalidArgumentError(fmt::format("create issue: {}'s answer has no {}: {}",
                                                  tracker, needed, excerpt(body, 200)));
  }
  return *std::move(ticket);
}

absl::StatusOr<std::optional<created_ticket>> first_search_hit(std::string_view body,
                                                               const char* list,
                                                               std::string_view tracker,
                                                               const ticket_reader& pick) {
  absl::StatusOr<rapidjson::Document> answer = parse_json(body, "issue search", tracker);
  if (!answer.ok()) return answer.status();
  const auto hits = answer->IsObject() ? answer->FindMember(list) : answer->MemberEnd();
  if (!answer->IsObject() || hits == answer->MemberEnd() || !hits->value.IsArray()) {
    return absl::InvalidArgumentError(
        fmt::format("issue search: {}'s answer has no list of {}", tracker, list));
  }
  for (const rapidjson::Value& hit : hits->value.GetArray()) {
    if (std::optional<created_ticket> ticket = pick(hit)) return ticket;
  }
  return std::nullopt;
}

std::string_view string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return {};
  return {member->value.GetString(), member->value.GetStringLength()};
}

std::string base_url(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

http_request json_request(std::string method, std::string url,
                          std::vector<std::pair<std::string, std::string>> headers,
                          std::string body) {
  http_request request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.headers.emplace_back("User-Agent", "warden-sink");
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(body);
  return request;
}

absl::StatusOr<std::string> expand_field(const custom_field_config& field,
                                         const template_values& values) {
  absl::StatusOr<std::string> value = expand_template(field.value, values);
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("custom field \"{}\": {}", field.name, std::string(value.status().message())));
  }
  return value;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item.data(), item.size());
  }
  return items;
}

void add_unique(std::vector<std::string>& list, std::string value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end()) {
    list.push_back(std::move(value));
  }
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out = truncate_utf8(text, max_bytes);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

std::string generic_error_message(const http_response& response, std::string_view tracker) {
  if (response.status == 0) {
    return response.error.empty() ? fmt::format("no answer from {}", tracker)
                                  : fmt::format("no answer from {}: {}", tracker, response.error);
  }
  if (response.body.empty()) return fmt::format("HTTP {} (empty body)", response.status);
  return fmt::format("HTTP {}: {}", response.status, excerpt(response.body, 200));
}

}  // namespace warden::sink::detail
