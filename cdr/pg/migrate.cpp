// SPDX-License-Identifier: Apache-2.0
// Versioned, forward-only schema migrations (schema/NNNN_description.sql).

#include "cdr/cdr_log.h"
#include "cdr/errors.h"
#include "cdr/pg/pg_util.h"
#include "cdr/store.h"
#include "common/config_error.h"

#include <pqxx/pqxx>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace ss::cdr {

namespace {

// The highest numbered file in schema/. tests/unit/cdr checks the two agree.
constexpr int kSchemaVersion = 6;

// pg_advisory_lock key serialising concurrent `migrate` runs ("ssmigr" in ASCII).
constexpr std::int64_t kMigrateLockKey = 0x73736d696772;

struct Migration {
    int version = 0;
    std::string file;  // e.g. 0001_initial.sql
    std::filesystem::path path;
};

std::vector<Migration> listMigrations(const std::string& schemaDir)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(schemaDir, ec)) {
        throw ConfigError("schema directory " + schemaDir + " does not exist");
    }
    static const std::regex kName(R"(^([0-9]{4})_[A-Za-z0-9_.-]+\.sql$)");
    std::vector<Migration> out;
    for (const auto& entry : fs::directory_iterator(schemaDir)) {
        const std::string file = entry.path().filename().string();
        std::smatch m;
        if (!entry.is_regular_file() || !std::regex_match(file, m, kName)) {
            continue;
        }
        out.push_back({std::stoi(m[1].str()), file, entry.path()});
    }
    std::sort(out.begin(), out.end(),
              [](const Migration& a, const Migration& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].version == out[i - 1].version) {
            throw ConfigError("schema directory " + schemaDir + " has two migrations numbered " +
                              std::to_string(out[i].version) + ": " + out[i - 1].file + ", " +
                              out[i].file);
        }
    }
    return out;
}

std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("cannot read " + path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int currentVersion(pqxx::connection& conn)
{
    pqxx::read_transaction txn(conn);
    return txn.exec1("SELECT coalesce(max(version), 0) FROM schema_version")[0].as<int>();
}

void apply(pqxx::connection& conn, const Migration& m)
{
    const std::string sql = readFile(m.path);
    try {
        pqxx::work txn(conn);
        txn.exec(sql);
        txn.exec_params0(
            "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, now())",
            m.version, m.file);
        txn.commit();
    } catch (const pqxx::broken_connection&) {
        throw;
    } catch (const pqxx::sql_error& e) {
        throw ConfigError("migration " + m.file + " failed: " + pg::oneLine(e.what()));
    }
    cdrLog()->info("applied schema migration {}", m.file);
}

// A DROP or CREATE of a partition needs an exclusive lock on the parent; waiting behind a
// long query would queue every CDR insert behind the maintenance. Fail instead, retry later.
constexpr const char* kMaintenanceLockTimeout = "SET LOCAL lock_timeout = '5s'";

void checkRange(const std::string& field, int value, int max)
{
    if (value < 0 || value > max) {
        throw invalidValue(field, std::to_string(value),
                           "an integer from 0 to " + std::to_string(max));
    }
}

}  // namespace

PartitionMaintenance maintainPartitions(const std::string& dsn, int daysAhead, int retentionDays)
{
    checkRange("--days-ahead", daysAhead, kMaxPartitionDaysAhead);
    checkRange("--retention-days", retentionDays, kMaxRetentionDays);
    pg::requireExpectedSchema(pg::readSchemaVersion(dsn));
    try {
        pqxx::connection conn(dsn);
        pqxx::work txn(conn);
        txn.exec0(kMaintenanceLockTimeout);
        PartitionMaintenance out;
        out.retentionDays = retentionDays;
        for (const auto& row : txn.exec_params(
                 "SELECT p FROM cdr_ensure_partitions((now() AT TIME ZONE 'UTC')::date, "
                 "(now() AT TIME ZONE 'UTC')::date + $1::integer) p",
                 daysAhead)) {
            out.created.push_back(row[0].as<std::string>());
        }
        for (const auto& row : txn.exec_params(
                 "SELECT relation, rows_deleted FROM cdr_drop_partitions($1::integer)",
                 retentionDays)) {
            if (row[1].is_null()) {
                out.dropped.push_back(row[0].as<std::string>());
            } else if (row[0].as<std::string>() == "cdr_default") {
                out.defaultRowsDeleted = row[1].as<std::int64_t>();
            }
        }
        txn.commit();
        if (!out.created.empty() || !out.dropped.empty() || out.defaultRowsDeleted > 0) {
            cdrLog()->info("CDR partitions: {} created, {} dropped, {} old rows deleted from "
                           "cdr_default",
                           out.created.size(), out.dropped.size(), out.defaultRowsDeleted);
        }
        return out;
    } catch (...) {
        pg::rethrowDbError("CDR partition maintenance");
    }
}

int expectedSchemaVersion() { return kSchemaVersion; }

int migrate(const std::string& dsn, const std::string& schemaDir)
{
    const auto migrations = listMigrations(schemaDir);
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    try {
        pqxx::connection conn(dsn);
        // Session lock: a second migrate waits, then finds the work done. Released on close.
        pqxx::nontransaction(conn).exec_params("SELECT pg_advisory_lock($1)", kMigrateLockKey);
        {
            pqxx::work txn(conn);
            txn.exec0("CREATE TABLE IF NOT EXISTS schema_version ("
                      " version    integer PRIMARY KEY,"
                      " name       text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())");
            txn.commit();
        }
        int version = currentVersion(conn);
        if (version > newest) {
            throw ConfigError(fmt::format("database schema version is {}, newer than the newest "
                                          "migration ({}) in {}",
                                          version, newest, schemaDir));
        }
        for (const auto& m : migrations) {
            if (m.version > version) {
                apply(conn, m);
                version = m.version;
            }
        }
        return version;
    } catch (...) {
        pg::rethrowDbError("schema migration");
    }
}

}  // namespace ss::cdr
