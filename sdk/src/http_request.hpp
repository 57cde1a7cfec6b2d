// Envelope + DSN -> HTTP request, apart from any I/O (as sentry-native separates its
// request building from the curl sender). Internal to the SDK.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "dsn.hpp"
#include "envelope.hpp"
#include "warden/sdk/transport.hpp"

namespace warden::sdk::detail {

/// Bodies at least this large are gzipped (smaller ones gain little and cost CPU).
inline constexpr std::size_t kGzipThreshold = 1024;

/// The POST that delivers `envelope` to the DSN's project.
http_request envelope_request(std::string envelope, const dsn& target, const sdk_identity& sdk);

}  // namespace warden::sdk::detail
