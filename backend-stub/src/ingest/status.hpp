// HTTP status codes for ingest errors.
//
// Every function of the ingest layer (ingest/body.hpp, ingest/envelope.hpp,
// ingest/json.hpp, ingest/auth.hpp) reports failure as an absl::Status whose code picks
// the HTTP answer and whose message is written for the person who configured the SDK:
// it names the limit and the actual size, the byte offset of a malformed envelope, the
// header that is wrong. The server sends the message back as `{"detail": message}`.
//
//   code                 HTTP  meaning
//   OK                   200   accepted
//   InvalidArgument      400   malformed body, envelope, JSON or protocol version
//   Unauthenticated      401   credentials missing, unreadable or contradictory
//   PermissionDenied     403   readable credentials that the sink refuses
//   OutOfRange           413   over a size or count limit
//   ResourceExhausted    429   rate limited
//   Unavailable          503   the sink cannot take the request now (queue full)
//   anything else        500   a bug or an environment failure on the sink's side
//
// Example:
//   absl::StatusOr<std::string> body = warden::sink::decode_body(encoding, raw, limit);
//   if (!body.ok()) return reply(warden::sink::http_status(body.status()), body.status());
#pragma once

#include "absl/status/status.h"

namespace warden::sink {

/// The HTTP status code for `status`, by the table above; one place decides it so that
/// every endpoint answers the same error the same way.
int http_status(const absl::Status& status) noexcept;

}  // namespace warden::sink
