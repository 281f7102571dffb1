// SPDX-License-Identifier: Apache-2.0
#include "cdr/cdr_writer.h"
#include "cdr/errors.h"
#include "cdr/rollup.h"
#include "cdr/store.h"
#include "cdr/time_format.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>
#include <pqxx/pqxx>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

namespace ss::pgtest {
namespace {

using namespace std::chrono_literals;

class PgCdrSink : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            migrateSchema();
            sink_ = cdr::makePgCdrSink(dsn_);
        }
    }
    // A timestamptz column as ISO-8601 UTC with milliseconds, computed by PostgreSQL.
    static std::string iso(const std::string& column)
    {
        return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
    }
    std::unique_ptr<cdr::CdrSink> sink_;
};

TEST_F(PgCdrSink, WritesTheCallAndItsAttemptsWithMillisecondTimes)
{
    const auto r = makeRecord(1);
    sink_->write({r});

    const auto row = sql("SELECT node, call_id, caller, callee, callee_out, origin_gateway, "
                         "origin_addr, term_gateway, term_addr, attempts, " +
                         iso("setup_at") + ", " + iso("ring_at") + ", " + iso("answer_at") +
                         ", " + iso("end_at") +
                         ", pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code, "
                         "sip_reason, q850_cause, setup_at = date_trunc('milliseconds', "
                         "setup_at) FROM cdr")[0];
    EXPECT_EQ(row[0].as<std::string>(), "node-a");
    EXPECT_EQ(row[1].as<std::string>(), "call-1");
    EXPECT_EQ(row[2].as<std::string>(), "4930123");
    EXPECT_EQ(row[3].as<std::string>(), "49891");
    EXPECT_EQ(row[4].as<std::string>(), "00491");
    EXPECT_EQ(row[5].as<std::string>(), "orig1");
    EXPECT_EQ(row[6].as<std::string>(), "10.0.0.1:5060");
    EXPECT_EQ(row[7].as<std::string>(), "term2");
    EXPECT_EQ(row[8].as<std::string>(), "10.0.1.2:5060");
    EXPECT_EQ(row[9].as<int>(), 2);
    // 2026-01-01T00:00:01.123456Z: stored truncated to the millisecond.
    EXPECT_EQ(row[10].as<std::string>(), "2026-01-01T00:00:01.123Z");
    EXPECT_EQ(row[11].as<std::string>(), "2026-01-01T00:00:02.623Z");
    EXPECT_EQ(row[12].as<std::string>(), "2026-01-01T00:00:04.373Z");
    EXPECT_EQ(row[13].as<std::string>(), "2026-01-01T00:01:04.373Z");
    EXPECT_EQ(row[14].as<long>(), 1500);
    EXPECT_EQ(row[15].as<long>(), 60000);
    EXPECT_EQ(row[16].as<std::string>(), "callee");
    EXPECT_EQ(row[17].as<std::string>(), "callee_bye");
    EXPECT_EQ(row[18].as<std::string>(), "recv_bye");
    EXPECT_EQ(row[19].as<int>(), 200);
    EXPECT_EQ(row[20].as<std::string>(), "OK");
    EXPECT_EQ(row[21].as<int>(), 16);
    EXPECT_TRUE(row[22].as<bool>());

    const auto attempts =
        sql("SELECT a.seq, a.gateway, a.addr, a.transport, " + iso("a.started_at") + ", " +
            iso("a.ended_at") +
            ", a.sip_code, a.outcome FROM cdr_attempt a JOIN cdr c ON c.id = a.cdr_id "
            "ORDER BY a.seq");
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0][0].as<int>(), 1);
    EXPECT_EQ(attempts[0][1].as<std::string>(), "term1");
    EXPECT_EQ(attempts[0][2].as<std::string>(), "10.0.1.1:5060");
    EXPECT_EQ(attempts[0][3].as<std::string>(), "udp");
    EXPECT_EQ(attempts[0][4].as<std::string>(), "2026-01-01T00:00:01.133Z");
    EXPECT_EQ(attempts[0][5].as<std::string>(), "2026-01-01T00:00:01.633Z");
    EXPECT_EQ(attempts[0][6].as<int>(), 503);
    EXPECT_EQ(attempts[0][7].as<std::string>(), "rejected");
    EXPECT_EQ(attempts[1][3].as<std::string>(), "tcp");
    EXPECT_EQ(attempts[1][6].as<int>(), 200);
    EXPECT_EQ(attempts[1][7].as<std::string>(), "answered");
}

TEST_F(PgCdrSink, StoresAbsentTimesAsNull)
{
    auto r = makeRecord(1);
    r.ringAt.reset();
    r.answerAt.reset();
    r.attempts.clear();
    sink_->write({r});
    EXPECT_EQ(scalar("SELECT ring_at IS NULL AND answer_at IS NULL AND hold_ms = 0 AND "
                     "pdd_ms = 0 AND attempts = 0 FROM cdr"),
              "t");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "0");
}

TEST_F(PgCdrSink, IgnoresACallAlreadyStoredForTheSameNode)
{
    sink_->write({makeRecord(1)});
    auto again = makeRecord(1);
    again.caller = "changed";
    sink_->write({again, makeRecord(2)});
    sink_->write({makeRecord(3), makeRecord(3)});  // twice in one batch

    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "3");
    EXPECT_EQ(scalar("SELECT caller FROM cdr WHERE call_id = 'call-1'"), "4930123");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "6");
    // ... and counted once in the rollup of `cdr stats` (schema/0004) and in its PDD
    // histograms (pending until folded, schema/0006).
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "3");
    EXPECT_EQ(scalar("SELECT sum(n) FROM cdr_rollup_pdd_pending, unnest(pdd_counts) n "
                     "WHERE dimension = 'gateway'"),
              "3");

    auto otherNode = makeRecord(1);
    otherNode.node = "node-b";
    sink_->write({otherNode});
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr WHERE call_id = 'call-1'"), "2");
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "4");
}

// Every 32nd batch the sink folds the pending PDD histograms into cdr_rollup_pdd (schema/0006).
TEST_F(PgCdrSink, FoldsThePendingPddHistogramsEvery32Batches)
{
    const auto pdd = [&](const std::string& table) {
        return scalar("SELECT coalesce(sum(n), 0) FROM " + table +
                      ", unnest(pdd_counts) n WHERE dimension = 'gateway'");
    };
    for (int i = 1; i <= 31; ++i) {
        ASSERT_TRUE(sink_->write({makeRecord(i)}).empty());
    }
    EXPECT_EQ(pdd("cdr_rollup_pdd_pending"), "31");
    EXPECT_EQ(pdd("cdr_rollup_pdd"), "0");
    ASSERT_TRUE(sink_->write({makeRecord(32)}).empty());
    EXPECT_EQ(pdd("cdr_rollup_pdd_pending"), "0");
    EXPECT_EQ(pdd("cdr_rollup_pdd"), "32");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd WHERE dimension = 'gateway'"), "1");
}

// Two writers (two nodes, or two CdrWriters) at once, each folding every 32 batches while the
// other appends, some batches replayed: every call counted exactly once, in the same rollup as
// recomputed from the stored calls.
TEST_F(PgCdrSink, TwoWritersFoldingWhileTheOtherWritesKeepTheRollupExact)
{
    constexpr int kBatches = 70;  // two folds per writer, and a remainder left pending
    constexpr int kPerBatch = 10;
    const auto batch = [](int writer, int b) {
        std::vector<cdr::CdrRecord> out;
        for (int i = 0; i < kPerBatch; ++i) {
            auto r = makeRecord(1);
            r.callId = "w" + std::to_string(writer) + "-" + std::to_string(b * kPerBatch + i);
            r.termGateway = "term" + std::to_string(i % 3);
            r.sipCode = i % 4 == 0 ? 486 : 200;
            // PDDs over 0.1-13 s: many buckets, and hours of two days' calls.
            const auto pdd = std::chrono::milliseconds(100 + (b * 7919 + i * 104729) % 13000);
            r.ringAt = r.setupAt + pdd;
            r.answerAt = *r.ringAt + 1s;
            r.setupAt += std::chrono::hours(b % 30);
            r.ringAt = *r.ringAt + std::chrono::hours(b % 30);
            r.answerAt = *r.answerAt + std::chrono::hours(b % 30);
            r.endAt += std::chrono::hours(b % 30);
            out.push_back(r);
        }
        return out;
    };
    std::vector<std::thread> writers;
    std::atomic<int> refused{0};
    for (int w = 0; w < 2; ++w) {
        writers.emplace_back([&, w] {
            auto sink = cdr::makePgCdrSink(dsn_);
            for (int b = 0; b < kBatches; ++b) {
                const auto calls = batch(w, b);
                refused += static_cast<int>(sink->write(calls).size());
                if (b % 9 == 0) {
                    refused += static_cast<int>(sink->write(calls).size());  // a replay
                }
            }
        });
    }
    for (auto& t : writers) {
        t.join();
    }
    EXPECT_EQ(refused.load(), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), std::to_string(2 * kBatches * kPerBatch));
    // Some folded by the writers, the rest still pending.
    EXPECT_EQ(scalar("SELECT count(*) > 0 FROM cdr_rollup_pdd"), "t");
    EXPECT_EQ(scalar("SELECT count(*) > 0 FROM cdr_rollup_pdd_pending"), "t");
    EXPECT_NE(scalar("SELECT cdr_rollup_pdd_fold()"), "0");
    expectRollupAsRebuilt();
    EXPECT_EQ(scalar("SELECT sum(n) FROM cdr_rollup_pdd, unnest(pdd_counts) n "
                     "WHERE dimension = 'gateway'"),
              std::to_string(2 * kBatches * kPerBatch));
}

// The sink adds up each batch's share of the rollup itself (cdr/rollup.h); the SQL functions
// cdr_rollup_rebuild and `cdr stats` use must give the same value for every input.
TEST_F(PgCdrSink, TheRollupRulesAgreeWithTheirSqlTwins)
{
    std::vector<std::int64_t> pdds;
    for (std::int64_t v = -3; v <= 300; ++v) {
        pdds.push_back(v);
    }
    for (int e = 7; e <= 62; ++e) {
        for (const std::int64_t d : {-1, 0, 1, 12345}) {
            pdds.push_back((std::int64_t{1} << e) + d);
        }
    }
    pdds.push_back(std::numeric_limits<std::int64_t>::max());
    pdds.push_back(std::numeric_limits<std::int64_t>::min());
    std::string values;
    for (const auto v : pdds) {
        values += (values.empty() ? "" : ",") + std::to_string(v);
    }
    const auto buckets =
        sql("SELECT v, cdr_pdd_bucket(v) FROM unnest('{" + values + "}'::bigint[]) AS v");
    ASSERT_EQ(buckets.size(), pdds.size());
    for (const auto& row : buckets) {
        const auto v = row[0].as<std::int64_t>();
        EXPECT_EQ(cdr::pddBucket(v), row[1].as<int>()) << "pdd_ms " << v;
    }

    const auto effective = sql(
        "SELECT a, r, c, cdr_is_effective(a, r, c) "
        "FROM unnest('{t,f}'::boolean[]) a, "
        "unnest('{caller_cancel,timeout_ringing,callee_rejected,caller_bye,no_route,\"\"}'"
        "::text[]) r, unnest('{0,200,404,480,486,487,500,503,600,603}'::integer[]) c");
    ASSERT_EQ(effective.size(), 2u * 6 * 10);
    for (const auto& row : effective) {
        EXPECT_EQ(cdr::isEffective(row[0].as<bool>(), row[1].as<std::string>(), row[2].as<int>()),
                  row[3].as<bool>())
            << row[0].c_str() << " " << row[1].c_str() << " " << row[2].c_str();
    }
}

// Whichever way a batch goes in (COPYed as new, redone skipping the calls already stored, or
// row by row around a refused call), its rollup is the one cdr_rollup_rebuild computes from the
// stored calls: hours on both sides of midnight and before 1970, texts PostgreSQL stores
// altered (invalid UTF-8, NUL) or with quotes, backslashes, braces and commas, PDDs negative, exact, bucketed and beyond 2^40 ms, calls that
// never rang, every end direction.
TEST_F(PgCdrSink, EveryWayABatchGoesInRollsUpAsTheRebuildDoes)
{
    // The first with what COPY text and array literals must escape.
    const std::vector<std::string> gateways = {"gw\"A\\{x}, NULL", "gw\xff",
                                               std::string("g\0w", 3), ""};
    const std::vector<std::string> reasons = {"caller_cancel", "callee_rejected", "caller_bye",
                                              "reason\xc0"};
    const std::vector<cdr::EndDirection> directions = {
        cdr::EndDirection::Caller, cdr::EndDirection::Callee, cdr::EndDirection::Switch};
    const std::vector<int> codes = {200, 486, 404, 503, 603};
    const std::vector<std::chrono::milliseconds> pdds = {
        -40ms, 0ms, 127ms, 128ms, 1001ms, 9999ms, std::chrono::hours(24 * 365 * 40)};
    const auto call = [&](int i) {
        auto r = makeRecord(i);
        r.callId = "mix-" + std::to_string(i);
        r.termGateway = gateways[i % 4];
        r.endReason = reasons[i % 4];
        r.endDirection = directions[i % 3];
        r.sipCode = codes[i % 5];
        r.setupAt += std::chrono::minutes(37 * i);
        if (i % 11 == 0) {
            r.setupAt -= std::chrono::hours(24 * 365 * 60);  // 1966
        }
        r.ringAt.reset();
        r.answerAt.reset();
        if (i % 3 != 2) {
            r.ringAt = r.setupAt + pdds[i % 7];
        }
        if (i % 2 == 0) {
            r.answerAt = r.setupAt + pdds[i % 7] + std::chrono::seconds(i);
        }
        r.endAt = r.setupAt + std::chrono::minutes(1);
        return r;
    };
    std::vector<cdr::CdrRecord> first;
    std::vector<cdr::CdrRecord> second;  // half of `first` again, half new
    std::vector<cdr::CdrRecord> third;   // new, one of them refused
    for (int i = 0; i < 60; ++i) {
        first.push_back(call(i));
    }
    for (int i = 30; i < 90; ++i) {
        second.push_back(call(i));
    }
    for (int i = 90; i < 120; ++i) {
        third.push_back(call(i));
    }
    third[5].disposition = "nonsense";
    EXPECT_TRUE(sink_->write(first).empty());
    EXPECT_TRUE(sink_->write(second).empty());
    EXPECT_EQ(sink_->write(third).size(), 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "119");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "238");
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "119");
    // Calls 33 and 77: gateway "gw\xff", stored as "gw\uFFFD", set up in 1966.
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup WHERE term_gateway = 'gw\xEF\xBF\xBD'"
                     " AND hour < '1970-01-01'"),
              "2");
    EXPECT_NE(scalar("SELECT cdr_rollup_pdd_fold()"), "0");
    expectRollupAsRebuilt();
}

TEST_F(PgCdrSink, ARowTheDatabaseRefusesDoesNotBlockTheOthers)
{
    auto bad = makeRecord(2);
    bad.disposition = "not_a_disposition";
    std::vector<cdr::RejectedCdr> rejected;
    EXPECT_NO_THROW(rejected = sink_->write({makeRecord(1), bad, makeRecord(3)}));
    EXPECT_EQ(scalar("SELECT string_agg(call_id, ',' ORDER BY call_id) FROM cdr"),
              "call-1,call-3");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "4");
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "2");
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(rejected[0].record.callId, "call-2");
    EXPECT_EQ(rejected[0].record.disposition, "not_a_disposition");
    EXPECT_THAT(rejected[0].reason, ::testing::HasSubstr("cdr_disposition_check"));
    EXPECT_EQ(rejected[0].reason.find('\n'), std::string::npos);
}

// End to end: the refused CDR is kept in <spool>/rejected.jsonl, the others are stored.
TEST_F(PgCdrSink, TheWriterKeepsARefusedCdrInTheDeadLetterFile)
{
    const std::string spoolDir = ::testing::TempDir() + "ss_pg_rejected_" + dbName_;
    cdr::CdrWriterConfig config;
    config.spoolDir = spoolDir;
    auto bad = makeRecord(2);
    bad.endDirection = cdr::EndDirection::Switch;
    bad.disposition = "hung_up";
    {
        auto writer = cdr::makeCdrWriter(cdr::makePgCdrSink(dsn_), config);
        writer->submit(makeRecord(1));
        writer->submit(std::move(bad));
        writer->submit(makeRecord(3));
        writer->stop();
    }
    EXPECT_EQ(scalar("SELECT string_agg(call_id, ',' ORDER BY call_id) FROM cdr"),
              "call-1,call-3");
    std::ifstream in(spoolDir + "/rejected.jsonl");
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("call_id"), "call-2");
    EXPECT_EQ(j.at("disposition"), "hung_up");
    EXPECT_THAT(j.at("rejected").get<std::string>(), ::testing::HasSubstr("disposition"));
    EXPECT_FALSE(std::getline(in, line));
    EXPECT_FALSE(std::filesystem::exists(spoolDir + "/cdr.spool"));
    std::filesystem::remove_all(spoolDir);
}

TEST_F(PgCdrSink, StoresTextThatIsNotValidUtf8OrHasNul)
{
    auto r = makeRecord(1);
    r.caller = std::string("49\0\xff", 4);
    sink_->write({r});
    EXPECT_EQ(scalar("SELECT caller FROM cdr"), "49\xEF\xBF\xBD");
}

// The batch travels as COPY text: its separators and escape character must arrive as sent,
// and every byte sequence PostgreSQL would refuse as UTF-8 becomes U+FFFD.
TEST_F(PgCdrSink, StoresSeparatorsBackslashesAndMultibyteTextVerbatim)
{
    auto r = makeRecord(1);
    r.sipReason = "a\tb\nc\\d\re\\N";
    r.callee = "\\N";
    r.caller = "\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80";  // ü € U+1F600
    // An overlong '/', a UTF-16 surrogate, a truncated sequence at the end.
    r.calleeOut = "x\xC0\xAFy\xED\xA0\x80z\xE2\x82";
    r.attempts[0].gateway = "gw\tone";
    sink_->write({r});
    EXPECT_EQ(scalar("SELECT sip_reason FROM cdr"), "a\tb\nc\\d\re\\N");
    EXPECT_EQ(scalar("SELECT callee FROM cdr"), "\\N");
    EXPECT_EQ(scalar("SELECT caller FROM cdr"), "\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80");
    EXPECT_EQ(scalar("SELECT callee_out FROM cdr"),
              "x\xEF\xBF\xBD\xEF\xBF\xBD"                              // C0, AF
              "y\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"                  // ED, A0, 80
              "z\xEF\xBF\xBD\xEF\xBF\xBD");                            // E2, 82
    EXPECT_EQ(scalar("SELECT gateway FROM cdr_attempt WHERE seq = 1"), "gw\tone");
}

TEST_F(PgCdrSink, ReconnectsAfterTheConnectionIsKilled)
{
    sink_->write({makeRecord(1)});
    sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()");
    try {
        sink_->write({makeRecord(2)});
    } catch (const ConfigError&) {
        // The batch that meets the dead connection may fail; the next one reconnects.
        sink_->write({makeRecord(2)});
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "2");
}

TEST_F(PgCdrSink, ABatchTheDatabaseSitsOnFailsAfterTheStatementTimeout)
{
    auto sink = cdr::makePgCdrSink(dsn_, 300ms);
    sink->write({makeRecord(1)});  // connected
    // Another session holds the table, as a long maintenance job or a hung server would.
    pqxx::connection other(dsn_);
    pqxx::work lock(other);
    lock.exec0("LOCK TABLE cdr IN ACCESS EXCLUSIVE MODE");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(sink->write({makeRecord(2)}), ConfigError);  // → the writer spools it
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 3s);
    lock.abort();
    sink->write({makeRecord(2)});
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "2");
}

TEST(PgCdrSinkOffline, UnreachableDatabaseIsDbUnavailable)
{
    auto sink = cdr::makePgCdrSink(kUnreachableDsn);
    EXPECT_THROW(sink->write({makeRecord(1)}), cdr::DbUnavailable);
}

// The writer in front of PostgreSQL: a DSN that fails spools; the next writer with a working
// DSN replays into PostgreSQL, each call once.
TEST_F(PgCdrSink, CdrsSpooledWhileTheDatabaseWasDownReachItLater)
{
    const std::string spoolDir = ::testing::TempDir() + "ss_pg_spool_" + dbName_;
    cdr::CdrWriterConfig config;
    config.spoolDir = spoolDir;
    config.retryInitial = 1h;
    {
        auto down = cdr::makeCdrWriter(cdr::makePgCdrSink(kUnreachableDsn), config);
        for (int n = 1; n <= 50; ++n) {
            down->submit(makeRecord(n));
        }
        down->stop();
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "0");
    {
        auto up = cdr::makeCdrWriter(cdr::makePgCdrSink(dsn_), config);
        for (int n = 51; n <= 100; ++n) {
            up->submit(makeRecord(n));
        }
        up->stop();  // the start-up replay completes before the writer stops
    }
    EXPECT_EQ(scalar("SELECT count(DISTINCT call_id) FROM cdr"), "100");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr"), "100");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_attempt"), "200");
    std::filesystem::remove_all(spoolDir);
}

}  // namespace
}  // namespace ss::pgtest
