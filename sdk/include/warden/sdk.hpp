// Warden's client SDK: captures errors, messages and crashes with the owner of the code
// that failed, and ships them to warden-sink (or any Sentry server) in the Sentry
// envelope protocol from a background worker. See docs/SDK.md.
//
// Example:
//
//   #include <warden/sdk.hpp>
//
//   int main() {
//     warden::options options;
//     options.dsn = "http://public@127.0.0.1:8080/1";
//     auto sdk = warden::init(std::move(options));
//     try {
//       run();
//     } catch (const std::exception& error) {
//       warden::capture_exception(error);
//     }
//   }  // sdk closes here, delivering what is pending
#pragma once

#include "warden/sdk/capture.hpp"
#include "warden/sdk/event.hpp"
#include "warden/sdk/init.hpp"
#include "warden/sdk/options.hpp"
#include "warden/sdk/scope.hpp"
#include "warden/sdk/transport.hpp"
