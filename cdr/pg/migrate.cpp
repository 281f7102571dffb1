// SPDX-License-Identifier: Apache-2.0
// Versioned, forward-only schema migrations (schema/NNNN_description.sql).

#include "cdr/cdr_log.h"
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
constexpr int kSchemaVersion = 2;

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

}  // namespace

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
