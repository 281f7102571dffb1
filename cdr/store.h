// SPDX-License-Identifier: Apache-2.0
#pragma once

// The database layer's public face. All PostgreSQL access is in cdr/pg/*.cpp; callers see only
// these functions and plain records.

#include "cdr/cdr_writer.h"
#include "common/provisioning.h"

#include <memory>
#include <string>

namespace ss::cdr {

/// Loads gateways, routes and parameters in one read-only transaction.
/// Throws ConfigError when the database is unreachable (DbUnavailable, cdr/errors.h) or its
/// schema version is not the one this build expects (the message names both versions).
common::Provisioning loadProvisioning(const std::string& dsn);

/// The PostgreSQL NOTIFY channel that every change to gateway, route or param raises (a
/// statement trigger in schema/0001); the payload is the table name. LISTEN on it and reload.
inline constexpr const char* kProvisioningChannel = "provisioning";

/// A CdrSink writing `cdr` and `cdr_attempt` rows in one transaction per batch, ignoring
/// (node, call_id) conflicts. Connects lazily and reconnects after failures; throws
/// DbUnavailable / ConfigError when a batch is not stored. Times are stored truncated to
/// milliseconds. A row the database refuses (e.g. a disposition outside SPEC §4) is skipped,
/// so it cannot block the CDRs behind it, and returned from write() with the reason.
std::unique_ptr<CdrSink> makePgCdrSink(const std::string& dsn);

/// Applies every migration in `schemaDir` (files `NNNN_*.sql`) newer than the database's
/// version, each in its own transaction, under an advisory lock, recording it in
/// `schema_version` (created if missing). Idempotent. Returns the version reached. Throws
/// ConfigError on failure (DbUnavailable when the database cannot be reached).
int migrate(const std::string& dsn, const std::string& schemaDir);

/// The schema version this build needs (the highest numbered file in schema/).
int expectedSchemaVersion();

}  // namespace ss::cdr
