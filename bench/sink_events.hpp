// Envelopes as a native Sentry SDK sends them, for loading warden-sink: one error event
// each, with an exception and a 20-30 frame stack trace, tags (the owner among them),
// contexts, breadcrumbs and a user. Each envelope is built once per group; sending one
// copies it and writes a fresh event id (and a user from a pool of 5,000) in place, so
// producing a request costs a memcpy.
//
//   sink_envelopes envelopes{1000, envelope_size::typical};   // 3-5 KB, 1,000 groups
//   std::string body;
//   envelopes.make(group, body);   // POST body for /api/1/envelope/, a new event id
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace warden::bench {

/// How big each event is.
enum class envelope_size {
  small,    ///< A message event: an envelope of about 400 bytes: the bare server's "small request".
  typical,  ///< 3-5 KB: 20-30 frames, 5-15 breadcrumbs, tags and contexts.
  large,    ///< About 50 KB: 100 breadcrumbs with data, frames with source context.
};

/// A new event id as SDKs make them (UUID v4: 32 hex digits that look random, so
/// that they land anywhere in an index), unique in this process and across processes.
std::string fresh_event_id();

/// Prebuilt envelopes of `groups` distinct issues; not thread-safe (one load generator).
class sink_envelopes final {
 public:
  /// Builds one envelope per group. Groups differ in the exception type (20 kinds) and
  /// the innermost function (50 kinds), so up to 1,000 groups are distinct issues.
  sink_envelopes(std::size_t groups, envelope_size size);

  /// Writes the envelope of `group` (modulo groups()) into `out`, with an event id no
  /// other call of any sink_envelopes in this process produced.
  void make(std::size_t group, std::string& out);

  /// How many distinct groups there are.
  std::size_t groups() const { return templates_.size(); }
  /// Mean envelope size in bytes.
  double mean_bytes() const;
  /// Smallest and largest envelope size in bytes.
  std::size_t min_bytes() const;
  std::size_t max_bytes() const;

 private:
  // One group's envelope with the offsets of the text rewritten for each request.
  struct envelope_template {
    std::string text;
    std::vector<std::size_t> event_id_at;  // 32 hex digits each
    std::size_t user_at = 0;               // 6 decimal digits
  };

  std::vector<envelope_template> templates_;
  std::uint64_t sent_ = 0;
};

}  // namespace warden::bench
