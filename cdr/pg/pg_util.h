// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to cdr/pg: helpers shared by the PostgreSQL files. No pqxx type appears here.

#include <string>
#include <utility>
#include <vector>

namespace ss::cdr::pg {

/// Call only inside a catch block. Rethrows the exception being handled as one of ours:
/// connection problems as DbUnavailable, ConfigError and ValidationError unchanged, anything
/// else as ConfigError; messages start with `context`.
[[noreturn]] void rethrowDbError(const std::string& context);

/// The schema version recorded in the database, 0 when `schema_version` does not exist.
/// Opens its own connection. Throws DbUnavailable / ConfigError.
int readSchemaVersion(const std::string& dsn);

/// Throws ConfigError naming both versions unless `found` == expectedSchemaVersion().
void requireExpectedSchema(int found);

/// Creates database `name` if it does not exist, connecting with `dsn` (a maintenance
/// database such as `postgres`). Throws DbUnavailable / ConfigError.
void ensureDatabase(const std::string& dsn, const std::string& name);

/// `dsn` (a libpq URL or key=value string) as a key=value string with `defaults` added for
/// the keywords it does not set itself. Returns `dsn` unchanged when libpq cannot parse it
/// (connecting then reports why).
std::string withConnectionDefaults(
    const std::string& dsn, const std::vector<std::pair<std::string, std::string>>& defaults);

/// A conninfo value in single quotes (libpq: backslash escapes ' and \).
std::string quoteConninfo(const std::string& value);

/// libpq messages span lines ("...failed: ...\n\tIs the server running..."); one line reads
/// better in a log or after "swctl: ".
std::string oneLine(const std::string& text);

}  // namespace ss::cdr::pg
