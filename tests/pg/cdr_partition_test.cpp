// SPDX-License-Identifier: Apache-2.0
// Daily partitions of cdr and cdr_attempt (schema/0003): created ahead, the DEFAULT partition
// catching the rest, retention, and idempotent writes across partitions.

#include "cdr/admin_store.h"
#include "cdr/errors.h"
#include "cdr/store.h"
#include "cdr/time_format.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

namespace ss::pgtest {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using nlohmann::json;
using Names = std::vector<std::string>;

class CdrPartitions : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            migrateSchema();
        }
    }
    // The partitions of `parent`, by name and DEFAULT last, as "name FOR VALUES FROM (..)
    // TO (..)" in UTC ("name DEFAULT").
    Names partitions(const std::string& parent)
    {
        Names out;
        for (const auto& row : sql("SET LOCAL timezone = 'UTC'; SELECT c.relname || ' ' || "
                                   "pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                                   "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '" +
                                   parent + "'::regclass ORDER BY c.relpartbound IS NOT NULL "
                                   "AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', "
                                   "c.relname")) {
            out.push_back(row[0].as<std::string>());
        }
        return out;
    }
    // The UTC day `offset` days from the database's today, as YYYYMMDD.
    std::string day(int offset)
    {
        return scalar("SELECT to_char((now() AT TIME ZONE 'UTC')::date + " +
                      std::to_string(offset) + ", 'YYYYMMDD')");
    }
    // Where each call (by call_id) and each of its attempts is stored: "call_id:table".
    std::string placement()
    {
        return scalar("SELECT string_agg(x, ',' ORDER BY x COLLATE \"C\") FROM ("
                      "SELECT call_id || ':' || tableoid::regclass AS x FROM cdr UNION ALL "
                      "SELECT c.call_id || '#' || a.seq || ':' || a.tableoid::regclass FROM "
                      "cdr_attempt a JOIN cdr c ON c.id = a.cdr_id AND c.setup_at = a.setup_at"
                      ") t");
    }
    // A makeRecord() call moved to `setup` (ISO-8601), its other times following.
    static cdr::CdrRecord at(int n, const std::string& setup)
    {
        auto r = makeRecord(n);
        const auto shift = *cdr::parseTimeSpec(setup, r.setupAt) - r.setupAt;
        r.setupAt += shift;
        r.ringAt = *r.ringAt + shift;
        r.answerAt = *r.answerAt + shift;
        r.endAt += shift;
        for (auto& a : r.attempts) {
            a.startedAt += shift;
            a.endedAt += shift;
        }
        return r;
    }
};

TEST_F(CdrPartitions, MigrateCreatesTodayAndSevenDaysAheadEachOneUtcDay)
{
    const auto cdrParts = partitions("cdr");
    ASSERT_EQ(cdrParts.size(), 9u);  // 8 days + DEFAULT
    EXPECT_EQ(cdrParts.back(), "cdr_default DEFAULT");
    for (int i = 0; i <= 7; ++i) {
        const std::string from =
            scalar("SELECT to_char((now() AT TIME ZONE 'UTC')::date + " + std::to_string(i) +
                   ", 'YYYY-MM-DD')");
        const std::string to =
            scalar("SELECT to_char((now() AT TIME ZONE 'UTC')::date + " +
                   std::to_string(i + 1) + ", 'YYYY-MM-DD')");
        EXPECT_EQ(cdrParts[i], "cdr_p" + day(i) + " FOR VALUES FROM ('" + from +
                                   " 00:00:00+00') TO ('" + to + " 00:00:00+00')");
    }
    const auto attemptParts = partitions("cdr_attempt");
    ASSERT_EQ(attemptParts.size(), 9u);
    EXPECT_EQ(attemptParts.front().substr(0, 22), "cdr_attempt_p" + day(0) + " ");
    EXPECT_EQ(attemptParts.back(), "cdr_attempt_default DEFAULT");
}

TEST_F(CdrPartitions, MaintainCreatesOnlyTheMissingDaysAndIsIdempotent)
{
    const auto done = cdr::maintainPartitions(dsn_, 9, 0);
    EXPECT_EQ(done.created, (Names{"cdr_p" + day(8), "cdr_attempt_p" + day(8),
                                   "cdr_p" + day(9), "cdr_attempt_p" + day(9)}));
    EXPECT_TRUE(done.dropped.empty());
    EXPECT_EQ(done.retentionDays, 0);
    const auto again = cdr::maintainPartitions(dsn_, 9, 0);
    EXPECT_TRUE(again.created.empty());
    EXPECT_EQ(partitions("cdr").size(), 11u);
    EXPECT_EQ(partitions("cdr_attempt").size(), 11u);
}

TEST_F(CdrPartitions, ACallOnADayWithoutPartitionGoesToDefaultAndMovesWhenItsDayIsCreated)
{
    auto sink = cdr::makePgCdrSink(dsn_);
    ASSERT_TRUE(sink->write({at(1, "2031-06-01T10:00:00Z"), at(2, "2031-06-02T10:00:00Z")})
                    .empty());
    EXPECT_EQ(placement(),
              "call-1#1:cdr_attempt_default,call-1#2:cdr_attempt_default,call-1:cdr_default,"
              "call-2#1:cdr_attempt_default,call-2#2:cdr_attempt_default,call-2:cdr_default");
    const auto ids = scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM cdr");

    // Creating 2031-06-01 moves that day's call and attempts out of DEFAULT, ids kept.
    EXPECT_EQ(scalar("SELECT string_agg(p, ',') FROM "
                     "cdr_ensure_partitions('2031-06-01', '2031-06-01') p"),
              "cdr_p20310601,cdr_attempt_p20310601");
    EXPECT_EQ(placement(),
              "call-1#1:cdr_attempt_p20310601,call-1#2:cdr_attempt_p20310601,"
              "call-1:cdr_p20310601,call-2#1:cdr_attempt_default,call-2#2:cdr_attempt_default,"
              "call-2:cdr_default");
    EXPECT_EQ(scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM cdr"), ids);
    // ... and `cdr show` still finds each call with its chain.
    cdr::AdminStore store(dsn_);
    for (const char* callId : {"call-1", "call-2"}) {
        const auto found = store.findCdrs(callId);
        ASSERT_EQ(found.size(), 1u) << callId;
        EXPECT_EQ(found[0].attempts.size(), 2u) << callId;
    }
    // A replay after the move is still recognised.
    ASSERT_TRUE(sink->write({at(1, "2031-06-01T10:00:00Z"), at(2, "2031-06-02T10:00:00Z")})
                    .empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "2");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "4");
}

TEST_F(CdrPartitions, ReplayingTheSameBatchAcrossPartitionsStoresEachCallOnce)
{
    // Today's partition, an old day with a partition, and the DEFAULT partition.
    sql("SELECT cdr_ensure_partitions('2026-01-01', '2026-01-01')");
    const auto today = cdr::formatIsoMillis(
        cdr::fromEpochMillis(std::stoll(scalar("SELECT (extract(epoch FROM now()) * 1000 - "
                                               "60000)::bigint"))));
    const std::vector<cdr::CdrRecord> batch = {at(1, today), makeRecord(2),
                                               at(3, "2019-03-01T12:00:00.5Z")};
    auto sink = cdr::makePgCdrSink(dsn_);
    ASSERT_TRUE(sink->write(batch).empty());
    ASSERT_TRUE(sink->write(batch).empty());
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({batch[2], batch[0], batch[1]}).empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "3");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "6");
    EXPECT_EQ(scalar("SELECT string_agg(call_id || ':' || tableoid::regclass, ',' "
                     "ORDER BY call_id) FROM cdr"),
              "call-1:cdr_p" + day(0) + ",call-2:cdr_p20260101,call-3:cdr_default");
    // Every attempt carries its call's setup_at.
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt a JOIN cdr c ON c.id = a.cdr_id "
                     "AND c.setup_at = a.setup_at"),
              "6");
}

TEST_F(CdrPartitions, RetentionDropsOldDaysKeepsNewerOnesAndCleansTheDefault)
{
    // 2026-01-01 and -02 have partitions; 2019 is in DEFAULT; today and 40 days ago too.
    sql("SELECT cdr_ensure_partitions('2026-01-01', '2026-01-02')");
    const std::string recent = scalar("SELECT to_char((now() AT TIME ZONE 'UTC')::date - 20, "
                                      "'YYYY-MM-DD')");
    sql("SELECT cdr_ensure_partitions('" + recent + "', '" + recent + "')");
    auto sink = cdr::makePgCdrSink(dsn_);
    ASSERT_TRUE(sink->write({makeRecord(1), at(2, "2026-01-02T08:00:00Z"),
                             at(3, "2019-03-01T12:00:00Z"), at(4, recent + "T08:00:00Z"),
                             at(5, "2031-01-01T00:00:00Z")})
                    .empty());

    // Retention 0 keeps everything.
    auto done = cdr::maintainPartitions(dsn_, 7, 0);
    EXPECT_TRUE(done.dropped.empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "5");
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "5");

    done = cdr::maintainPartitions(dsn_, 7, 30);
    EXPECT_EQ(done.retentionDays, 30);
    EXPECT_EQ(done.dropped, (Names{"cdr_attempt_p20260101", "cdr_attempt_p20260102",
                                   "cdr_p20260101", "cdr_p20260102"}));
    EXPECT_EQ(done.defaultRowsDeleted, 1);  // 2019
    EXPECT_EQ(scalar("SELECT string_agg(call_id, ',' ORDER BY call_id) FROM cdr"),
              "call-4,call-5");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "4");
    // `cdr stats` no longer counts the dropped days either (schema/0004 rollup).
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "2");
    EXPECT_EQ(scalar("SELECT to_regclass('cdr_p" + recent.substr(0, 4) + recent.substr(5, 2) +
                     recent.substr(8, 2) + "') IS NOT NULL"),
              "t");
    EXPECT_EQ(partitions("cdr").back(), "cdr_default DEFAULT");  // never dropped
    EXPECT_EQ(partitions("cdr").size(), 10u);                     // today + 7, -20, DEFAULT

    // A shorter retention takes the day 20 days back too; nothing is left to drop twice.
    done = cdr::maintainPartitions(dsn_, 7, 10);
    EXPECT_EQ(done.dropped.size(), 2u);
    EXPECT_TRUE(cdr::maintainPartitions(dsn_, 7, 10).dropped.empty());
    EXPECT_EQ(scalar("SELECT string_agg(call_id, ',') FROM cdr"), "call-5");
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "1");
}

TEST_F(CdrPartitions, MaintainRefusesValuesOutOfRangeNamingTheField)
{
    const std::vector<std::tuple<int, int, std::string>> cases = {
        {-1, 0, "--days-ahead: \"-1\" is not allowed; expected an integer from 0 to 365"},
        {366, 0, "--days-ahead: \"366\""},
        {7, -1, "--retention-days: \"-1\" is not allowed; expected an integer from 0 to 3650"},
        {7, 3651, "--retention-days: \"3651\""},
    };
    for (const auto& [ahead, retention, message] : cases) {
        try {
            cdr::maintainPartitions(dsn_, ahead, retention);
            ADD_FAILURE() << message;
        } catch (const cdr::ValidationError& e) {
            EXPECT_THAT(e.what(), HasSubstr(message));
        }
    }
    EXPECT_EQ(partitions("cdr").size(), 9u);
    EXPECT_THROW(cdr::maintainPartitions(kUnreachableDsn, 7, 0), cdr::DbUnavailable);
}

TEST_F(CdrPartitions, SwctlDbMaintainUsesTheStoredRetentionAndRefusesBadValues)
{
    sql("SELECT cdr_ensure_partitions('2026-01-01', '2026-01-01')");
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({makeRecord(1)}).empty());

    auto r = swctl(dsn_, {"db", "maintain", "--days-ahead", "8"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, "created: cdr_p" + day(8) + " cdr_attempt_p" + day(8) +
                         "\ndropped: none\nold rows deleted from cdr_default: 0\n"
                         "retention: keep forever\n");

    sql("INSERT INTO param (name, value) VALUES ('SS_CDR_RETENTION_DAYS', '90')");
    // The call's PDD histograms, not yet folded (schema/0006), go with it.
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd_pending"), "4");
    r = swctl(dsn_, {"db", "maintain", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = json::parse(r.out);
    EXPECT_EQ(j.at("days_ahead"), 7);
    EXPECT_EQ(j.at("retention_days"), 90);
    EXPECT_EQ(j.at("created"), json::array());
    EXPECT_EQ(j.at("dropped"), json::array({"cdr_attempt_p20260101", "cdr_p20260101"}));
    EXPECT_EQ(j.at("default_rows_deleted"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup"), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd"), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd_pending"), "0");

    const auto before = partitions("cdr");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--days-ahead", "366"}, "--days-ahead: \"366\" is not allowed; expected an integer "
                                  "from 0 to 365"},
        {{"--days-ahead", "x"}, "--days-ahead: \"x\""},
        {{"--retention-days", "-1"}, "--retention-days: \"-1\" is not allowed; expected an "
                                     "integer from 0 to 3650"},
        {{"--retention-days", "3651"}, "--retention-days: \"3651\""},
    };
    for (const auto& [args, message] : cases) {
        std::vector<std::string> argv = {"db", "maintain"};
        argv.insert(argv.end(), args.begin(), args.end());
        r = swctl(dsn_, argv);
        EXPECT_EQ(r.exitCode, 2) << message;
        EXPECT_THAT(r.err, HasSubstr(message));
    }
    // A stored retention out of range is refused, not guessed at.
    sql("UPDATE param SET value = '9999' WHERE name = 'SS_CDR_RETENTION_DAYS'");
    r = swctl(dsn_, {"db", "maintain"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_THAT(r.err, HasSubstr("SS_CDR_RETENTION_DAYS: \"9999\" is not allowed"));
    EXPECT_EQ(partitions("cdr"), before);
    EXPECT_EQ(swctl(kUnreachableDsn, {"db", "maintain", "--days-ahead", "400"}).exitCode, 2);
}

}  // namespace
}  // namespace ss::pgtest
