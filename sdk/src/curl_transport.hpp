// The default transport: libcurl with reused easy handles on one multi handle, so
// connections stay open between envelopes (keep-alive) and a batch of envelopes travels
// on several connections at once. Internal to the SDK.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "warden/sdk/transport.hpp"

namespace warden::sdk::detail {

/// Connection settings of the curl transport.
struct curl_settings {
  std::string proxy;      ///< e.g. "http://proxy:3128"; empty: none (curl's env vars apply).
  std::string ca_bundle;  ///< PEM file to verify the sink's certificate with; empty: system.
  std::chrono::milliseconds connect_timeout{2000};
};

/// Sends requests with libcurl. Not thread-safe: owned by the worker thread.
class curl_transport final : public transport {
 public:
  explicit curl_transport(curl_settings settings);
  ~curl_transport() override;
  curl_transport(const curl_transport&) = delete;
  curl_transport& operator=(const curl_transport&) = delete;

  http_response send(const http_request& request, std::chrono::milliseconds timeout) override;
  std::vector<http_response> send_all(const std::vector<http_request>& requests,
                                      std::chrono::milliseconds timeout) override;
  void cancel() noexcept override;

 private:
  struct handle;
  struct transfer;
  // Runs the requests concurrently, one easy handle each.
  std::vector<http_response> exchange(const std::vector<const http_request*>& requests,
                                      std::chrono::milliseconds timeout);
  // Configures `out.curl` for `request` and adds it to the multi handle.
  void set_up(transfer& out, const http_request& request, std::chrono::milliseconds timeout) const;
  // Drives the added transfers until all are done or cancel() was called.
  void run(std::vector<transfer>& transfers);
  curl_settings settings_;
  std::unique_ptr<handle> handle_;
};

}  // namespace warden::sdk::detail
