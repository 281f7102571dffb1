// SPDX-License-Identifier: Apache-2.0
#include "cdr/admin_store.h"
#include "cdr/errors.h"
#include "cdr/store.h"
#include "cdr/time_format.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <future>

namespace ss::pgtest {
namespace {

namespace fs = std::filesystem;

// schema/ copied to a temp dir, so tests can add migrations.
class SchemaCopy {
public:
    SchemaCopy()
    {
        path_ = ::testing::TempDir() + "ss_schema_XXXXXX";
        if (::mkdtemp(path_.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        fs::copy(SS_SCHEMA_DIR, path_);
    }
    ~SchemaCopy() { fs::remove_all(path_); }
    void add(const std::string& file, const std::string& sql)
    {
        std::ofstream(fs::path(path_) / file) << sql;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Only the migrations numbered up to `version` from schema/, so a test can make an older
// database.
class SchemaUpTo {
public:
    explicit SchemaUpTo(int version)
    {
        path_ = ::testing::TempDir() + "ss_schema_XXXXXX";
        if (::mkdtemp(path_.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        for (const auto& entry : fs::directory_iterator(SS_SCHEMA_DIR)) {
            const auto file = entry.path().filename().string();
            if (file.ends_with(".sql") && std::stoi(file.substr(0, 4)) <= version) {
                fs::copy(entry.path(), fs::path(path_) / file);
            }
        }
    }
    ~SchemaUpTo() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

using Migrate = PgTest;

TEST_F(Migrate, CreatesTheSchemaAndIsIdempotent)
{
    EXPECT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_EQ(scalar("SELECT count(*) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
    EXPECT_EQ(scalar("SELECT max(version) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 1"), "0001_initial.sql");
    for (const char* table : {"gateway", "route", "param", "cdr", "cdr_attempt"}) {
        EXPECT_EQ(scalar(std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t")
            << table;
    }
}

TEST_F(Migrate, FromEmptyAppliesVersionTwoAddingRouteSiteOrder)
{
    ASSERT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_GE(cdr::expectedSchemaVersion(), 2);
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 2"),
              "0002_failover_router.sql");
    EXPECT_EQ(scalar("SELECT column_default FROM information_schema.columns "
                     "WHERE table_name = 'route' AND column_name = 'site_order'"),
              "''::text");
    EXPECT_EQ(scalar("SELECT is_nullable FROM information_schema.columns "
                     "WHERE table_name = 'route' AND column_name = 'site_order'"),
              "NO");
}

TEST_F(Migrate, FromVersionOneAddsSiteOrderKeepingRoutesAndIsIdempotent)
{
    SchemaUpTo v1(1);
    ASSERT_EQ(cdr::migrate(dsn_, v1.path()), 1);
    sql("INSERT INTO gateway (name, role, host) VALUES ('term1', 'termination', '10.0.1.1')");
    sql("INSERT INTO route (prefix, gateway_id) SELECT '49', id FROM gateway");
    // A schema-1 attempt without a final response was stored with sip_code 0.
    sql("INSERT INTO cdr (node, call_id, setup_at, end_at, end_direction, end_reason, "
        "disposition, sip_code) VALUES ('n', 'c1', now(), now(), 'switch', "
        "'all_gateways_failed', 'send_refuse', 503)");
    sql("INSERT INTO cdr_attempt (cdr_id, seq, gateway, addr, transport, started_at, ended_at, "
        "sip_code, outcome) SELECT id, s, 'term1', '10.0.1.1:5060', 'udp', now(), now(), "
        "CASE s WHEN 1 THEN 0 ELSE 503 END, CASE s WHEN 1 THEN 'timeout_invite' ELSE "
        "'rejected' END FROM cdr, generate_series(1, 2) s");
    // softswitchd and swctl refuse the old version until it is migrated.
    try {
        cdr::loadProvisioning(dsn_);
        FAIL() << "loaded a version 1 database";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("version is 1 but this build needs " +
                                                   std::to_string(cdr::expectedSchemaVersion())));
    }

    const int expected = cdr::expectedSchemaVersion();
    EXPECT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), expected);
    EXPECT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), expected);  // second run: nothing to do
    EXPECT_EQ(scalar("SELECT count(*) FROM schema_version"), std::to_string(expected));
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 2"),
              "0002_failover_router.sql");
    // The existing route is kept, with no site ordering.
    EXPECT_EQ(scalar("SELECT prefix || '|' || site_order || '|' FROM route"), "49||");
    const auto p = cdr::loadProvisioning(dsn_);
    ASSERT_EQ(p.routes.size(), 1u);
    EXPECT_TRUE(p.routes[0].siteOrder.empty());
    // ... and the attempt that had no final response now says so with NULL.
    EXPECT_EQ(scalar("SELECT string_agg(coalesce(sip_code::text, 'null'), ',' ORDER BY seq) "
                     "FROM cdr_attempt"),
              "null,503");
}

TEST_F(Migrate, FromVersionTwoPartitionsTheCdrsKeepingEveryRowAndId)
{
    SchemaUpTo v2(2);
    ASSERT_EQ(cdr::migrate(dsn_, v2.path()), 2);
    sql("INSERT INTO cdr (node, call_id, caller, term_gateway, attempts, setup_at, ring_at, "
        "answer_at, end_at, pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code) "
        "VALUES ('n', 'c1', '4930', 'term1', 2, '2026-01-01 10:00:00.123+00', "
        "'2026-01-01 10:00:01.123+00', '2026-01-01 10:00:02.123+00', "
        "'2026-01-01 10:01:02.123+00', 1000, 60000, 'caller', 'caller_bye', 'recv_bye', 200), "
        "('n', 'c2', '4940', 'term2', 1, '2026-03-05 23:59:59.999+00', NULL, NULL, "
        "'2026-03-06 00:00:09.999+00', 0, 0, 'switch', 'all_gateways_failed', 'send_refuse', "
        "503)");
    sql("INSERT INTO cdr_attempt (cdr_id, seq, gateway, addr, transport, started_at, ended_at, "
        "sip_code, outcome) SELECT id, s, 'term' || s, '', 'udp', setup_at, end_at, "
        "CASE s WHEN 1 THEN NULL ELSE 200 END, CASE s WHEN 1 THEN 'timeout_invite' ELSE "
        "'answered' END FROM cdr, generate_series(1, attempts) s");
    const auto ids = scalar("SELECT string_agg(call_id || '=' || id, ',' ORDER BY id) FROM cdr");

    ASSERT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_GE(cdr::expectedSchemaVersion(), 3);
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 3"),
              "0003_cdr_partitions.sql");
    EXPECT_EQ(scalar("SELECT string_agg(relkind::text, ',' ORDER BY relname) FROM pg_class "
                     "WHERE relname IN ('cdr', 'cdr_attempt')"),
              "p,p");
    EXPECT_EQ(scalar("SELECT to_regclass('cdr_v2') IS NULL AND to_regclass('cdr_attempt_v2') "
                     "IS NULL"),
              "t");
    // Every row kept with its id, each in its day's partition; attempts carry the call's
    // setup_at and their NULL codes.
    EXPECT_EQ(scalar("SELECT string_agg(call_id || '=' || id, ',' ORDER BY id) FROM cdr"), ids);
    EXPECT_EQ(scalar("SELECT string_agg(call_id || ':' || tableoid::regclass, ',' ORDER BY id) "
                     "FROM cdr"),
              "c1:cdr_p20260101,c2:cdr_p20260305");
    EXPECT_EQ(scalar("SELECT string_agg(c.call_id || '#' || a.seq || ':' || "
                     "a.tableoid::regclass || ':' || coalesce(a.sip_code::text, 'null'), ',' "
                     "ORDER BY c.id, a.seq) FROM cdr_attempt a JOIN cdr c ON c.id = a.cdr_id "
                     "AND c.setup_at = a.setup_at"),
              "c1#1:cdr_attempt_p20260101:null,c1#2:cdr_attempt_p20260101:200,"
              "c2#1:cdr_attempt_p20260305:null");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr WHERE written_at IS NOT NULL"), "2");

    // The queries read them as before.
    cdr::AdminStore store(dsn_);
    const auto c1 = store.findCdrs("c1");
    ASSERT_EQ(c1.size(), 1u);
    EXPECT_EQ(c1[0].cdr.holdMs, 60000);
    ASSERT_EQ(c1[0].attempts.size(), 2u);
    EXPECT_EQ(c1[0].attempts[0].sipCode, 0);  // NULL: no final response
    EXPECT_EQ(c1[0].attempts[1].outcome, "answered");
    cdr::CdrQuery q;
    q.callerPrefix = "494";
    const auto rows = store.queryCdrs(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].callId, "c2");
    // New CDRs get ids after the old ones; a replay is still a duplicate.
    auto sink = cdr::makePgCdrSink(dsn_);
    ASSERT_TRUE(sink->write({makeRecord(1)}).empty());
    ASSERT_TRUE(sink->write({makeRecord(1)}).empty());
    EXPECT_EQ(scalar("SELECT id > (SELECT max(id) FROM cdr WHERE node = 'n') FROM cdr "
                     "WHERE call_id = 'call-1'"),
              "t");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "3");
    EXPECT_NO_THROW(cdr::loadProvisioning(dsn_));
}

TEST_F(Migrate, FromVersionThreeRollsUpTheStoredCallsForCdrStats)
{
    SchemaUpTo v3(3);
    ASSERT_EQ(cdr::migrate(dsn_, v3.path()), 3);
    // Hour 10: an answered call (pdd 1000 ms, hold 60 s) and one that never rang; hour 11: a
    // busy call that rang after 100 ms.
    sql("INSERT INTO cdr (node, call_id, term_gateway, setup_at, ring_at, answer_at, end_at, "
        "pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code) VALUES "
        "('n', 'c1', 'gwA', '2026-01-01 10:00:00.123+00', '2026-01-01 10:00:01.123+00', "
        "'2026-01-01 10:00:02.123+00', '2026-01-01 10:01:02.123+00', 1000, 60000, 'caller', "
        "'caller_bye', 'recv_bye', 200), "
        "('n', 'c2', 'gwA', '2026-01-01 10:59:59.999+00', NULL, NULL, "
        "'2026-01-01 11:00:09.999+00', 0, 0, 'switch', 'all_gateways_failed', 'send_refuse', "
        "503), "
        "('n', 'c3', 'gwA', '2026-01-01 11:00:00+00', '2026-01-01 11:00:00.1+00', NULL, "
        "'2026-01-01 11:00:05+00', 100, 0, 'callee', 'callee_rejected', 'recv_refuse', 486)");

    ASSERT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 4"),
              "0004_cdr_rollup.sql");
    EXPECT_EQ(scalar("SELECT string_agg(concat_ws('|', to_char(hour AT TIME ZONE 'UTC', 'HH24'), "
                     "term_gateway, sip_code, end_reason, end_direction, calls, answered, "
                     "answered_hold_ms, effective), ',' ORDER BY hour, sip_code) FROM cdr_rollup"),
              "10|gwA|200|caller_bye|caller|1|1|60000|1,"
              "10|gwA|503|all_gateways_failed|switch|1|0|0|0,"
              "11|gwA|486|callee_rejected|callee|1|0|0|1");
    // 1000 ms is in bucket (9 - 6) * 64 + (1000 >> 3) = 317; 100 ms is exact (bucket 100). c2
    // never rang.
    EXPECT_EQ(scalar("SELECT string_agg(concat_ws('|', to_char(hour AT TIME ZONE 'UTC', 'HH24'), "
                     "dimension, grp, pdd_buckets, pdd_counts), ',' "
                     "ORDER BY hour, dimension, grp) FROM cdr_rollup_pdd"),
              "10|code|200|{317}|{1},10|end_direction|caller|{317}|{1},"
              "10|gateway|gwA|{317}|{1},10|reason|caller_bye|{317}|{1},"
              "11|code|486|{100}|{1},11|end_direction|callee|{100}|{1},"
              "11|gateway|gwA|{100}|{1},11|reason|callee_rejected|{100}|{1}");
    EXPECT_EQ(scalar("SELECT count(*) FROM pg_indexes WHERE indexname IN "
                     "('cdr_caller_prefix_idx', 'cdr_callee_prefix_idx')"),
              "0");

    cdr::AdminStore store(dsn_);
    cdr::CdrStatsQuery q;
    q.since = *cdr::parseTimeSpec("2026-01-01", q.since);
    q.until = *cdr::parseTimeSpec("2026-01-02", q.since);
    auto rows = store.cdrStats(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].calls, 3);
    EXPECT_EQ(rows[0].answered, 1);
    EXPECT_EQ(rows[0].effective, 2);
    EXPECT_EQ(rows[0].pddP50Ms.value_or(-1), 100);   // 100 of 100, 1000
    EXPECT_EQ(rows[0].pddP95Ms.value_or(-1), 1007);  // 1000: [1000, 1007]
    // The sink adds to the migrated rollup; `cdr query` by caller prefix still works.
    auto r = makeRecord(1);  // 2026-01-01 00:00
    r.termGateway = "gwA";
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({r, r}).empty());
    rows = store.cdrStats(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].calls, 4);
    cdr::CdrQuery byCaller;
    byCaller.callerPrefix = r.caller.substr(0, 4);
    EXPECT_EQ(store.queryCdrs(byCaller).size(), 1u);
}

TEST_F(Migrate, TheSchemaRefusesMalformedSiteOrders)
{
    migrateSchema();
    sql("INSERT INTO gateway (name, role, host) VALUES ('term1', 'termination', '10.0.1.1')");
    sql("INSERT INTO route (prefix, gateway_id, site_order) "
        "SELECT '49', id, 'east,west.2,north_1-a' FROM gateway");
    const std::string name64(64, 'a');
    sql("UPDATE route SET site_order = '" + name64 + "'");
    const std::vector<std::string> bad = {"east,,west", ",east", "east,", "we st", "east;west",
                                          std::string(65, 'a'), "east," + std::string(65, 'b')};
    for (const auto& value : bad) {
        EXPECT_THROW(sql("UPDATE route SET site_order = '" + value + "'"), pqxx::check_violation)
            << value;
    }
    EXPECT_EQ(scalar("SELECT site_order FROM route"), name64);
}

TEST_F(Migrate, AttemptOutcomesIncludeSkipped)
{
    migrateSchema();
    auto r = makeRecord(1);
    r.attempts.insert(r.attempts.begin() + 1, {2, "term3", "", "udp", r.attempts[0].endedAt,
                                               r.attempts[0].endedAt, 0, "skipped"});
    r.attempts[2].seq = 3;
    EXPECT_TRUE(cdr::makePgCdrSink(dsn_)->write({r}).empty());
    EXPECT_EQ(scalar("SELECT string_agg(outcome, ',' ORDER BY seq) FROM cdr_attempt"),
              "rejected,skipped,answered");
    // The skipped gateway sent no response: its code is NULL, not 0.
    EXPECT_EQ(scalar("SELECT string_agg(coalesce(sip_code::text, 'null'), ',' ORDER BY seq) "
                     "FROM cdr_attempt"),
              "503,null,200");
}

TEST_F(Migrate, AppliesOnlyMigrationsNewerThanTheDatabase)
{
    migrateSchema();
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_SEND_RETRY', '3')");
    SchemaCopy schema;
    schema.add("9001_extra.sql", "CREATE TABLE extra (id int);");
    EXPECT_EQ(cdr::migrate(dsn_, schema.path()), 9001);
    EXPECT_EQ(cdr::migrate(dsn_, schema.path()), 9001);
    EXPECT_EQ(scalar("SELECT to_regclass('extra') IS NOT NULL"), "t");
    // 0001 was not applied again (it would have failed on existing tables, or wiped data).
    EXPECT_EQ(scalar("SELECT value FROM param WHERE name = 'SS_SIP_SEND_RETRY'"), "3");
}

TEST_F(Migrate, AFailingMigrationChangesNothingAndNamesTheFile)
{
    migrateSchema();
    SchemaCopy schema;
    schema.add("9001_broken.sql", "CREATE TABLE half (id int); CREATE TABLE (;");
    try {
        cdr::migrate(dsn_, schema.path());
        FAIL() << "migrate succeeded";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("9001_broken.sql"));
    }
    EXPECT_EQ(scalar("SELECT max(version) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
    EXPECT_EQ(scalar("SELECT to_regclass('half') IS NOT NULL"), "f");
}

TEST_F(Migrate, ConcurrentRunsBothSucceedOnce)
{
    auto a = std::async(std::launch::async, [&] { return cdr::migrate(dsn_, SS_SCHEMA_DIR); });
    auto b = std::async(std::launch::async, [&] { return cdr::migrate(dsn_, SS_SCHEMA_DIR); });
    EXPECT_EQ(a.get(), cdr::expectedSchemaVersion());
    EXPECT_EQ(b.get(), cdr::expectedSchemaVersion());
    EXPECT_EQ(scalar("SELECT count(*) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
}

TEST_F(Migrate, RefusesAMissingSchemaDirectory)
{
    EXPECT_THROW(cdr::migrate(dsn_, "/nonexistent/schema"), ConfigError);
}

TEST_F(Migrate, RefusesADatabaseNewerThanTheMigrations)
{
    SchemaCopy schema;
    schema.add("9001_extra.sql", "SELECT 1;");
    ASSERT_EQ(cdr::migrate(dsn_, schema.path()), 9001);
    EXPECT_THROW(cdr::migrate(dsn_, SS_SCHEMA_DIR), ConfigError);
}

TEST_F(Migrate, UnreachableDatabaseIsDbUnavailable)
{
    EXPECT_THROW(cdr::migrate(kUnreachableDsn, SS_SCHEMA_DIR), cdr::DbUnavailable);
}

}  // namespace
}  // namespace ss::pgtest
