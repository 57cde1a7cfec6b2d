// The database schema as a list of versioned migrations. A database records the last
// migration applied in `PRAGMA user_version`; opening it applies the missing ones, each
// in its own transaction, and refuses a database from a newer warden-sink.
#pragma once

#include "absl/status/status.h"
#include "store/sqlite.hpp"

namespace warden::sink {

/// The schema version this build writes.
int current_schema_version();

/// Brings `db` up to current_schema_version(). FailedPrecondition when the database was
/// written by a newer version.
absl::Status migrate(sqlite_db& db);

}  // namespace warden::sink
