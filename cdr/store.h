// SPDX-License-Identifier: Apache-2.0
#pragma once

// The database layer's public face. All PostgreSQL access is in cdr/pg/*.cpp; callers see only
// these functions and plain records.

#include "cdr/cdr_writer.h"
#include "common/provisioning.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ss::cdr {

/// Loads gateways, routes and parameters in one read-only transaction.
/// Throws ConfigError when the database is unreachable (DbUnavailable, cdr/errors.h) or its
/// schema version is not the one this build expects (the message names both versions).
common::Provisioning loadProvisioning(const std::string& dsn);

/// The PostgreSQL NOTIFY channel that every change to gateway, route or param raises (a
/// statement trigger in schema/0001); the payload is the table name. LISTEN on it and reload.
inline constexpr const char* kProvisioningChannel = "provisioning";

/// A CdrSink writing `cdr` and `cdr_attempt` rows in one transaction per batch, ignoring
/// (node, call_id, setup_at) conflicts (the unique key of the partitioned `cdr`, schema/0003;
/// a replayed CDR has the setup_at it had the first time). Connects lazily and reconnects
/// after failures; throws DbUnavailable / ConfigError when a batch is not stored. Times are
/// stored truncated to milliseconds. A row the database refuses (e.g. a disposition outside SPEC §4) is skipped,
/// so it cannot block the CDRs behind it, and returned from write() with the reason.
/// A batch PostgreSQL does not finish within `statementTimeout` (a hung server, a lock held
/// by a long query) is cancelled and fails like an outage, so its CDRs go to the spool instead
/// of the writer waiting on it.
std::unique_ptr<CdrSink> makePgCdrSink(
    const std::string& dsn,
    std::chrono::milliseconds statementTimeout = std::chrono::seconds(5));

/// Applies every migration in `schemaDir` (files `NNNN_*.sql`) newer than the database's
/// version, each in its own transaction, under an advisory lock, recording it in
/// `schema_version` (created if missing). Idempotent. Returns the version reached. Throws
/// ConfigError on failure (DbUnavailable when the database cannot be reached).
int migrate(const std::string& dsn, const std::string& schemaDir);

/// The schema version this build needs (the highest numbered file in schema/).
int expectedSchemaVersion();

/// How many days ahead of today `swctl db migrate` and `swctl db maintain` create partitions
/// unless told otherwise.
inline constexpr int kDefaultPartitionDaysAhead = 7;
/// Allowed ranges of maintainPartitions()'s arguments (and of the swctl options naming them).
inline constexpr int kMaxPartitionDaysAhead = 365;
inline constexpr int kMaxRetentionDays = 3650;

/// What maintainPartitions() did.
struct PartitionMaintenance {
    std::vector<std::string> created;  // cdr_pYYYYMMDD / cdr_attempt_pYYYYMMDD, by day
    std::vector<std::string> dropped;  // daily partitions dropped by retention
    std::int64_t defaultRowsDeleted = 0;  // cdr rows older than retention deleted from
                                          // cdr_default (their attempts went with them)
    int retentionDays = 0;                // the retention applied (0: kept everything)
};

/// Daily partition maintenance of `cdr` and `cdr_attempt` (schema/0003), in one transaction:
/// creates the partitions for today .. today + daysAhead (UTC days, by the database's clock)
/// that are missing, moving any rows of those days out of the DEFAULT partitions; then, when
/// retentionDays > 0, drops the daily partitions of days before today − retentionDays and
/// deletes rows older than that from the DEFAULT partitions (which are never dropped).
/// retentionDays 0 keeps everything. Idempotent; concurrent runs serialise. Waits at most a
/// few seconds for table locks (a long query holding `cdr` makes it fail rather than stall
/// the CDR writer behind it): call it again later. ValidationError (cdr/errors.h; fields
/// `--days-ahead`, `--retention-days`) when daysAhead is outside 0..kMaxPartitionDaysAhead or
/// retentionDays outside 0..kMaxRetentionDays; DbUnavailable / ConfigError (also when the
/// schema is not expectedSchemaVersion()) otherwise. Thread: any.
PartitionMaintenance maintainPartitions(const std::string& dsn, int daysAhead, int retentionDays);

}  // namespace ss::cdr
