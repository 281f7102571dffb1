// SPDX-License-Identifier: Apache-2.0
#include "pg_fixture.h"

#include "cdr/pg/pg_util.h"
#include "cdr/store.h"
#include "common/clock.h"
#include "common/ids.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <stdexcept>

extern char** environ;

namespace ss::pgtest {

namespace {

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::string withDatabase(const std::string& dsn, const std::string& dbName)
{
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
        PQconninfoParse(dsn.c_str(), &error), &PQconninfoFree);
    if (!options) {
        const std::string message = error != nullptr ? error : "unknown error";
        PQfreemem(error);
        throw std::runtime_error("SS_TEST_PG_URL is not a libpq connection string: " + message);
    }
    std::string out = "dbname=" + cdr::pg::quoteConninfo(dbName);
    for (auto* o = options.get(); o->keyword != nullptr; ++o) {
        if (o->val != nullptr && std::string(o->keyword) != "dbname") {
            out += std::string(" ") + o->keyword + "=" + cdr::pg::quoteConninfo(o->val);
        }
    }
    return out;
}

void PgTest::SetUp()
{
    const char* url = std::getenv("SS_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        if (std::getenv("CI") != nullptr) {
            GTEST_FAIL() << "SS_TEST_PG_URL is not set, and CI is: PostgreSQL tests must run";
        }
        GTEST_SKIP() << "\n**********************************************************\n"
                        "*** SS_TEST_PG_URL is not set: PostgreSQL test SKIPPED ***\n"
                        "**********************************************************";
    }
    adminDsn_ = url;
    dbName_ = "ss_test_" + common::randomToken(12);
    pqxx::connection conn(adminDsn_);
    pqxx::nontransaction(conn).exec0("CREATE DATABASE " + conn.quote_name(dbName_));
    dsn_ = withDatabase(adminDsn_, dbName_);
}

void PgTest::TearDown()
{
    if (dbName_.empty()) {
        return;
    }
    pqxx::connection conn(adminDsn_);
    pqxx::nontransaction(conn).exec0("DROP DATABASE IF EXISTS " + conn.quote_name(dbName_) +
                                     " WITH (FORCE)");
}

void PgTest::migrateSchema()
{
    ASSERT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
}

pqxx::result PgTest::sql(const std::string& query)
{
    pqxx::connection conn(dsn_);
    pqxx::work txn(conn);
    auto result = txn.exec(query);
    txn.commit();
    return result;
}

std::string PgTest::scalar(const std::string& query)
{
    const auto result = sql(query);
    if (result.empty() || result[0][0].is_null()) {
        return "";
    }
    return result[0][0].as<std::string>();
}

std::string PgTest::expectRollupAsRebuilt()
{
    // The whole rollup as two text rows (cdr_rollup, then cdr_rollup_pdd), each in key order.
    constexpr const char* kSnapshotSql =
        "SELECT string_agg(concat_ws('|', hour, term_gateway, sip_code, end_reason, "
        "end_direction, calls, answered, answered_hold_ms, effective), "
        "E'\\n' ORDER BY hour, term_gateway, sip_code, end_reason, end_direction) "
        "FROM cdr_rollup UNION ALL "
        "SELECT string_agg(concat_ws('|', hour, dimension, grp, pdd_buckets, pdd_counts), "
        "E'\\n' ORDER BY hour, dimension, grp) FROM cdr_rollup_pdd";
    const auto kept = sql(kSnapshotSql);
    const auto rows = scalar("SELECT cdr_rollup_rebuild('-infinity', 'infinity')");
    const auto rebuilt = sql(kSnapshotSql);
    EXPECT_EQ(kept.size(), 2u);
    EXPECT_EQ(rebuilt.size(), 2u);
    if (kept.size() == 2 && rebuilt.size() == 2) {
        EXPECT_EQ(kept[0][0].as<std::string>(), rebuilt[0][0].as<std::string>()) << "cdr_rollup";
        EXPECT_EQ(kept[1][0].as<std::string>(), rebuilt[1][0].as<std::string>())
            << "cdr_rollup_pdd";
    }
    return rows;
}

ProcessResult runProcess(const std::vector<std::string>& args)
{
    std::string dir = ::testing::TempDir() + "ss_proc_XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    const std::string outPath = dir + "/out";
    const std::string errPath = dir + "/err";
    std::vector<char*> argv;
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT, 0600);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot run " + args[0]);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ProcessResult result;
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = readFile(outPath);
    result.err = readFile(errPath);
    ::unlink(outPath.c_str());
    ::unlink(errPath.c_str());
    ::rmdir(dir.c_str());
    return result;
}

ProcessResult swctl(const std::string& dsn, std::vector<std::string> args)
{
    args.insert(args.begin(), {SS_SWCTL_PATH, "--db", dsn});
    return runProcess(args);
}

}  // namespace ss::pgtest
