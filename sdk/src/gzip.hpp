// gzip compression of request bodies (zlib). Internal to the SDK.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace warden::sdk::detail {

/// `data` as a gzip member (RFC 1952); nullopt only if zlib fails (out of memory).
std::optional<std::string> gzip(std::string_view data);

}  // namespace warden::sdk::detail
