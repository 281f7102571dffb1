// SPDX-License-Identifier: Apache-2.0
// `swctl cdr stats` (SPEC §1) against figures computed by hand from a small fixed set of calls.
//
// PDD percentiles come from histogram buckets (schema/0004 cdr_pdd_bucket): exact below 128 ms;
// above, [2^e, 2^(e+1)) is cut into 64 buckets of 2^(e-6) ms and the reported value is the
// highest of the bucket holding the percentile_disc. The buckets of the PDDs used here:
//   127 -> 127 (exact)   129 -> [128, 129] -> 129     500 -> [500, 503] -> 503
//   1000 -> [1000, 1007] -> 1007   1500 -> [1488, 1503] -> 1503   2000 -> [2000, 2015] -> 2015
//   3000 -> [2976, 3007] -> 3007   4000 -> [4000, 4031] -> 4031   6000 -> [5952, 6015] -> 6015

#include "cdr/admin_store.h"
#include "cdr/store.h"
#include "cdr/time_format.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

namespace ss::pgtest {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using nlohmann::json;

struct Call {
    std::string gateway;  // "" = reached none
    bool answered = false;
    std::optional<common::Millis> pdd;  // first 18x after setup; none: never rang
    common::Millis hold{0};
    cdr::EndDirection direction = cdr::EndDirection::Switch;
    std::string reason;
    int code = 0;
};

// The data set: 11 calls on 2026-01-01, and one on 2026-01-02 outside every range below.
//   n  gateway answered pdd    hold direction reason               code  NER
//   1  gwA     yes      1000   60 s caller    caller_bye           200   yes
//   2  gwA     yes      2000   30 s callee    callee_bye           200   yes
//   3  gwA     yes      3000   90 s caller    caller_bye           200   yes
//   4  gwA     no       4000        callee    callee_rejected      486   yes (busy)
//   5  gwA     no       -           switch    all_gateways_failed  503   no
//   6  gwB     yes      500    10 s caller    caller_bye           200   yes
//   7  gwB     no       1500        caller    caller_cancel        487   yes
//   8  gwB     no       -           switch    all_gateways_failed  503   no
//   9  gwB     no       -           switch    all_gateways_failed  503   no
//  10  -       no       -           switch    no_route             404   no
//  11  gwB     no       6000        callee    callee_rejected      503   no (not the user)
const std::vector<Call>& calls()
{
    using cdr::EndDirection;
    static const std::vector<Call> kCalls = {
        {"gwA", true, 1000ms, 60s, EndDirection::Caller, "caller_bye", 200},
        {"gwA", true, 2000ms, 30s, EndDirection::Callee, "callee_bye", 200},
        {"gwA", true, 3000ms, 90s, EndDirection::Caller, "caller_bye", 200},
        {"gwA", false, 4000ms, 0s, EndDirection::Callee, "callee_rejected", 486},
        {"gwA", false, std::nullopt, 0s, EndDirection::Switch, "all_gateways_failed", 503},
        {"gwB", true, 500ms, 10s, EndDirection::Caller, "caller_bye", 200},
        {"gwB", false, 1500ms, 0s, EndDirection::Caller, "caller_cancel", 487},
        {"gwB", false, std::nullopt, 0s, EndDirection::Switch, "all_gateways_failed", 503},
        {"gwB", false, std::nullopt, 0s, EndDirection::Switch, "all_gateways_failed", 503},
        {"", false, std::nullopt, 0s, EndDirection::Switch, "no_route", 404},
        {"gwB", false, 6000ms, 0s, EndDirection::Callee, "callee_rejected", 503},
    };
    return kCalls;
}

cdr::CdrRecord toRecord(int n, const Call& c)
{
    auto r = makeRecord(n);  // set up 2026-01-01T00:00:<n>.123456Z
    r.termGateway = c.gateway;
    r.ringAt.reset();
    r.answerAt.reset();
    if (c.pdd) {
        r.ringAt = r.setupAt + *c.pdd;
    }
    if (c.answered) {
        r.answerAt = *r.ringAt + 1s;
        r.endAt = *r.answerAt + c.hold;
    } else {
        r.endAt = r.setupAt + 20s;
    }
    r.endDirection = c.direction;
    r.endReason = c.reason;
    r.disposition = c.answered ? "recv_bye" : "send_refuse";
    r.sipCode = c.code;
    return r;
}

class CdrStats : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (IsSkipped() || HasFailure()) {
            return;
        }
        migrateSchema();
        std::vector<cdr::CdrRecord> batch;
        for (std::size_t i = 0; i < calls().size(); ++i) {
            batch.push_back(toRecord(static_cast<int>(i) + 1, calls()[i]));
        }
        auto outside = toRecord(99, calls()[0]);
        outside.callId = "next-day";
        outside.setupAt += 24h;
        outside.ringAt = *outside.ringAt + 24h;
        outside.answerAt = *outside.answerAt + 24h;
        outside.endAt += 24h;
        batch.push_back(outside);
        ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write(batch).empty());
    }
    // The groups of `swctl cdr stats --json` over 2026-01-01.
    json stats(const std::string& by)
    {
        const auto r = swctl(dsn_, {"cdr", "stats", "--since", "2026-01-01", "--until",
                                    "2026-01-02", "--by", by, "--json"});
        EXPECT_EQ(r.exitCode, 0) << r.err;
        const auto j = json::parse(r.out);
        EXPECT_EQ(j.at("by"), by);
        EXPECT_EQ(j.at("since"), "2026-01-01T00:00:00.000Z");
        EXPECT_EQ(j.at("until"), "2026-01-02T00:00:00.000Z");
        return j.at("groups");
    }
    static json failure(const std::string& reason, int code, int count)
    {
        return {{"end_reason", reason}, {"sip_code", code}, {"calls", count}};
    }
};

TEST_F(CdrStats, ByGatewayMatchesTheHandComputedFigures)
{
    const auto groups = stats("gateway");
    ASSERT_EQ(groups.size(), 3u);
    // gwA and gwB have 5 calls each (then by name), the calls without a gateway 1.
    const auto& a = groups[0];
    EXPECT_EQ(a.at("group"), "gwA");
    EXPECT_EQ(a.at("calls"), 5);
    EXPECT_EQ(a.at("answered"), 3);
    EXPECT_DOUBLE_EQ(a.at("asr").get<double>(), 0.6);
    EXPECT_DOUBLE_EQ(a.at("acd_s").get<double>(), 60.0);  // (60 + 30 + 90) / 3
    EXPECT_DOUBLE_EQ(a.at("ner").get<double>(), 0.8);     // 3 answered + 1 busy
    EXPECT_EQ(a.at("pdd_p50_ms"), 2015);  // 2000 of 1000, 2000, 3000, 4000
    EXPECT_EQ(a.at("pdd_p95_ms"), 4031);  // 4000
    EXPECT_EQ(a.at("failures"), json::array({failure("all_gateways_failed", 503, 1),
                                             failure("callee_rejected", 486, 1)}));

    const auto& b = groups[1];
    EXPECT_EQ(b.at("group"), "gwB");
    EXPECT_EQ(b.at("calls"), 5);
    EXPECT_EQ(b.at("answered"), 1);
    EXPECT_DOUBLE_EQ(b.at("asr").get<double>(), 0.2);
    EXPECT_DOUBLE_EQ(b.at("acd_s").get<double>(), 10.0);
    EXPECT_DOUBLE_EQ(b.at("ner").get<double>(), 0.4);  // 1 answered + 1 caller_cancel
    EXPECT_EQ(b.at("pdd_p50_ms"), 1503);               // 1500 of 500, 1500, 6000
    EXPECT_EQ(b.at("pdd_p95_ms"), 6015);               // 6000
    EXPECT_EQ(b.at("failures"), json::array({failure("all_gateways_failed", 503, 2),
                                             failure("callee_rejected", 503, 1),
                                             failure("caller_cancel", 487, 1)}));

    const auto& none = groups[2];
    EXPECT_EQ(none.at("group"), "-");
    EXPECT_EQ(none.at("calls"), 1);
    EXPECT_EQ(none.at("answered"), 0);
    EXPECT_DOUBLE_EQ(none.at("asr").get<double>(), 0.0);
    EXPECT_TRUE(none.at("acd_s").is_null());
    EXPECT_DOUBLE_EQ(none.at("ner").get<double>(), 0.0);
    EXPECT_TRUE(none.at("pdd_p50_ms").is_null());
    EXPECT_TRUE(none.at("pdd_p95_ms").is_null());
    EXPECT_EQ(none.at("failures"), json::array({failure("no_route", 404, 1)}));
}

TEST_F(CdrStats, ByCodeMatchesTheHandComputedFigures)
{
    const auto groups = stats("code");
    ASSERT_EQ(groups.size(), 5u);
    std::vector<std::string> order;
    for (const auto& g : groups) {
        order.push_back(g.at("group"));
    }
    EXPECT_EQ(order, (std::vector<std::string>{"200", "503", "404", "486", "487"}));
    const auto& ok = groups[0];
    EXPECT_EQ(ok.at("calls"), 4);
    EXPECT_EQ(ok.at("answered"), 4);
    EXPECT_DOUBLE_EQ(ok.at("asr").get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(ok.at("acd_s").get<double>(), 47.5);  // (60 + 30 + 90 + 10) / 4
    EXPECT_DOUBLE_EQ(ok.at("ner").get<double>(), 1.0);
    EXPECT_EQ(ok.at("pdd_p50_ms"), 1007);  // 1000 of 500, 1000, 2000, 3000
    EXPECT_EQ(ok.at("pdd_p95_ms"), 3007);  // 3000
    EXPECT_EQ(ok.at("failures"), json::array());
    const auto& failed = groups[1];
    EXPECT_EQ(failed.at("calls"), 4);
    EXPECT_EQ(failed.at("answered"), 0);
    EXPECT_TRUE(failed.at("acd_s").is_null());
    EXPECT_DOUBLE_EQ(failed.at("ner").get<double>(), 0.0);
    EXPECT_EQ(failed.at("pdd_p50_ms"), 6015);  // only call 11 rang: 6000
    EXPECT_EQ(failed.at("pdd_p95_ms"), 6015);
    EXPECT_EQ(failed.at("failures"), json::array({failure("all_gateways_failed", 503, 3),
                                                  failure("callee_rejected", 503, 1)}));
    EXPECT_DOUBLE_EQ(groups[3].at("ner").get<double>(), 1.0);  // 486: busy
    EXPECT_DOUBLE_EQ(groups[4].at("ner").get<double>(), 1.0);  // 487: cancelled
    EXPECT_DOUBLE_EQ(groups[2].at("ner").get<double>(), 0.0);  // 404: no route
}

TEST_F(CdrStats, ByReasonMatchesTheHandComputedFigures)
{
    const auto groups = stats("reason");
    ASSERT_EQ(groups.size(), 6u);
    std::map<std::string, json> by;
    for (const auto& g : groups) {
        by[g.at("group")] = g;
    }
    EXPECT_EQ(groups[0].at("group"), "all_gateways_failed");  // 3, before caller_bye (3)
    EXPECT_EQ(groups[1].at("group"), "caller_bye");
    EXPECT_EQ(by["all_gateways_failed"].at("calls"), 3);
    EXPECT_TRUE(by["all_gateways_failed"].at("pdd_p50_ms").is_null());
    EXPECT_EQ(by["caller_bye"].at("calls"), 3);
    EXPECT_DOUBLE_EQ(by["caller_bye"].at("acd_s").get<double>(), 53.3);  // 160 / 3
    EXPECT_EQ(by["caller_bye"].at("pdd_p50_ms"), 1007);  // 1000 of 500, 1000, 3000
    EXPECT_EQ(by["caller_bye"].at("pdd_p95_ms"), 3007);  // 3000
    EXPECT_EQ(by["callee_rejected"].at("calls"), 2);
    EXPECT_DOUBLE_EQ(by["callee_rejected"].at("ner").get<double>(), 0.5);  // the 486, not 503
    EXPECT_EQ(by["callee_rejected"].at("pdd_p50_ms"), 4031);  // 4000 of 4000, 6000
    EXPECT_EQ(by["callee_rejected"].at("pdd_p95_ms"), 6015);  // 6000
    EXPECT_EQ(by["callee_rejected"].at("failures"),
              json::array({failure("callee_rejected", 486, 1),
                           failure("callee_rejected", 503, 1)}));
    EXPECT_EQ(by["callee_bye"].at("calls"), 1);
    EXPECT_DOUBLE_EQ(by["callee_bye"].at("acd_s").get<double>(), 30.0);
    EXPECT_DOUBLE_EQ(by["caller_cancel"].at("ner").get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(by["no_route"].at("ner").get<double>(), 0.0);
}

TEST_F(CdrStats, ByEndDirectionMatchesTheHandComputedFigures)
{
    const auto groups = stats("end-direction");
    ASSERT_EQ(groups.size(), 3u);
    std::map<std::string, json> by;
    for (const auto& g : groups) {
        by[g.at("group")] = g;
    }
    const auto& caller = by["caller"];  // 1, 3, 6, 7
    EXPECT_EQ(caller.at("calls"), 4);
    EXPECT_EQ(caller.at("answered"), 3);
    EXPECT_DOUBLE_EQ(caller.at("asr").get<double>(), 0.75);
    EXPECT_DOUBLE_EQ(caller.at("acd_s").get<double>(), 53.3);
    EXPECT_DOUBLE_EQ(caller.at("ner").get<double>(), 1.0);
    EXPECT_EQ(caller.at("pdd_p50_ms"), 1007);  // 1000 of 500, 1000, 1500, 3000
    EXPECT_EQ(caller.at("pdd_p95_ms"), 3007);  // 3000
    EXPECT_EQ(caller.at("failures"), json::array({failure("caller_cancel", 487, 1)}));
    const auto& callee = by["callee"];  // 2, 4, 11
    EXPECT_EQ(callee.at("calls"), 3);
    EXPECT_EQ(callee.at("answered"), 1);
    EXPECT_DOUBLE_EQ(callee.at("asr").get<double>(), 0.3333);
    EXPECT_DOUBLE_EQ(callee.at("ner").get<double>(), 0.6667);
    EXPECT_EQ(callee.at("pdd_p50_ms"), 4031);  // 4000 of 2000, 4000, 6000
    EXPECT_EQ(callee.at("pdd_p95_ms"), 6015);  // 6000
    const auto& sw = by["switch"];  // 5, 8, 9, 10
    EXPECT_EQ(sw.at("calls"), 4);
    EXPECT_EQ(sw.at("answered"), 0);
    EXPECT_TRUE(sw.at("pdd_p95_ms").is_null());
    EXPECT_EQ(sw.at("failures"), json::array({failure("all_gateways_failed", 503, 3),
                                              failure("no_route", 404, 1)}));
}

TEST_F(CdrStats, TheRangeAndTopLimitWhatIsCounted)
{
    cdr::AdminStore store(dsn_);
    cdr::CdrStatsQuery q;
    q.since = makeRecord(0).setupAt - 1s;  // 2026-01-01T00:00:00.123Z - 1 s
    q.by = cdr::StatsGroup::EndDirection;
    q.topFailures = 1;
    std::int64_t total = 0;
    for (const auto& row : store.cdrStats(q)) {
        total += row.calls;
        EXPECT_LE(row.failures.size(), 1u);
    }
    EXPECT_EQ(total, 12);  // no --until: the next day's call too
    q.until = makeRecord(6).setupAt;  // calls 1-5
    const auto rows = store.cdrStats(q);
    total = 0;
    for (const auto& row : rows) {
        total += row.calls;
    }
    EXPECT_EQ(total, 5);
    // The default --since is 24 h ago: 2026-01-01 is long past.
    const auto r = swctl(dsn_, {"cdr", "stats", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(json::parse(r.out).at("groups"), json::array());
}

// A range that does not start and end on the hour: the whole hours come from the rollup, the
// partial hours at the ends from the calls themselves, with the same histogram buckets.
TEST_F(CdrStats, ARangeOffTheHourCountsOnlyTheCallsInsideIt)
{
    // 2026-01-03, gateway gwX:    in [10:30, 12:30)?
    //   10:10 answered, pdd 100, hold 10 s        no  (same hour as the start)
    //   10:50 busy 486, pdd 127                   yes (partial first hour)
    //   11:20 answered, pdd 129, hold 20 s        yes (a whole hour)
    //   12:05 answered, pdd 1000, hold 30 s       yes (partial last hour)
    //   12:40 answered, pdd 5, hold 40 s          no  (same hour as the end)
    const auto at = [](int n, const std::string& time, Call c) {
        auto r = toRecord(n, c);
        const auto shift =
            *cdr::parseTimeSpec("2026-01-03T" + time + "Z", r.setupAt) - r.setupAt;
        r.setupAt += shift;
        r.ringAt = *r.ringAt + shift;
        if (r.answerAt) {
            r.answerAt = *r.answerAt + shift;
        }
        r.endAt += shift;
        r.callId = "off-" + std::to_string(n);
        return r;
    };
    using cdr::EndDirection;
    const std::vector<cdr::CdrRecord> batch = {
        at(1, "10:10:00", {"gwX", true, 100ms, 10s, EndDirection::Caller, "caller_bye", 200}),
        at(2, "10:50:00",
           {"gwX", false, 127ms, 0s, EndDirection::Callee, "callee_rejected", 486}),
        at(3, "11:20:00", {"gwX", true, 129ms, 20s, EndDirection::Caller, "caller_bye", 200}),
        at(4, "12:05:00", {"gwX", true, 1000ms, 30s, EndDirection::Caller, "caller_bye", 200}),
        at(5, "12:40:00", {"gwX", true, 5ms, 40s, EndDirection::Caller, "caller_bye", 200}),
    };
    auto sink = cdr::makePgCdrSink(dsn_);
    ASSERT_TRUE(sink->write(batch).empty());
    cdr::AdminStore store(dsn_);
    cdr::CdrStatsQuery q;
    q.since = *cdr::parseTimeSpec("2026-01-03T10:30:00Z", q.since);
    q.until = *cdr::parseTimeSpec("2026-01-03T12:30:00Z", q.since);
    const auto check = [&] {
        const auto rows = store.cdrStats(q);
        ASSERT_EQ(rows.size(), 1u);
        const auto& x = rows[0];
        EXPECT_EQ(x.group, "gwX");
        EXPECT_EQ(x.calls, 3);
        EXPECT_EQ(x.answered, 2);
        EXPECT_EQ(x.answeredHoldMs, 50000);  // 20 s + 30 s
        EXPECT_EQ(x.effective, 3);           // 2 answered + busy
        EXPECT_EQ(x.pddP50Ms.value_or(-1), 129);          // 129 of 127, 129, 1000
        EXPECT_EQ(x.pddP95Ms.value_or(-1), 1007);         // 1000
        ASSERT_EQ(x.failures.size(), 1u);
        EXPECT_EQ(x.failures[0].endReason, "callee_rejected");
        EXPECT_EQ(x.failures[0].sipCode, 486);
        EXPECT_EQ(x.failures[0].calls, 1);
    };
    check();
    // A replay of the batch changes nothing, in the calls or in the rollup.
    ASSERT_TRUE(sink->write(batch).empty());
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({batch[3], batch[1]}).empty());
    check();
    // Within one hour (10:05-10:55: calls 1 and 2, raw) and exactly one whole hour (11-12).
    q.since = *cdr::parseTimeSpec("2026-01-03T10:05:00Z", q.since);
    q.until = *cdr::parseTimeSpec("2026-01-03T10:55:00Z", q.since);
    auto rows = store.cdrStats(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].calls, 2);
    EXPECT_EQ(rows[0].pddP50Ms.value_or(-1), 100);  // 100 of 100, 127: exact below 128 ms
    EXPECT_EQ(rows[0].pddP95Ms.value_or(-1), 127);
    q.since = *cdr::parseTimeSpec("2026-01-03T11:00:00Z", q.since);
    q.until = *cdr::parseTimeSpec("2026-01-03T12:00:00Z", q.since);
    rows = store.cdrStats(q);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].calls, 1);
    EXPECT_EQ(rows[0].answeredHoldMs, 20000);
    // Per UTC hour (the web page's charts): each call in its hour, the whole hour 11:00 from
    // the rollup and the partial ones from the calls, with the same figures.
    q.since = *cdr::parseTimeSpec("2026-01-03T10:30:00Z", q.since);
    q.until = *cdr::parseTimeSpec("2026-01-03T12:30:00Z", q.since);
    q.hourly = true;
    rows = store.cdrStats(q);
    ASSERT_EQ(rows.size(), 3u);
    const auto hour = [&](const std::string& h) {
        return cdr::parseTimeSpec("2026-01-03T" + h + ":00:00Z", q.since);
    };
    EXPECT_EQ(rows[0].hour, hour("10"));
    EXPECT_EQ(rows[0].calls, 1);
    EXPECT_EQ(rows[0].answered, 0);
    EXPECT_EQ(rows[0].pddP50Ms.value_or(-1), 127);
    ASSERT_EQ(rows[0].failures.size(), 1u);
    EXPECT_EQ(rows[0].failures[0].sipCode, 486);
    EXPECT_EQ(rows[1].hour, hour("11"));
    EXPECT_EQ(rows[1].answeredHoldMs, 20000);
    EXPECT_EQ(rows[1].pddP50Ms.value_or(-1), 129);
    EXPECT_EQ(rows[2].hour, hour("12"));
    EXPECT_EQ(rows[2].answeredHoldMs, 30000);
    EXPECT_EQ(rows[2].pddP95Ms.value_or(-1), 1007);
    for (const auto& r : rows) {
        EXPECT_EQ(r.group, "gwX");
    }
}

// The rollup the sink keeps, batch by batch and across replays, is the one computed from the
// stored calls (cdr_rollup_rebuild, which the migration uses for existing calls).
TEST_F(CdrStats, TheRollupKeptByTheSinkIsTheOneComputedFromTheCalls)
{
    std::vector<cdr::CdrRecord> more;
    for (std::size_t i = 0; i < calls().size(); ++i) {
        auto r = toRecord(static_cast<int>(i) + 1, calls()[i]);
        r.callId = "more-" + std::to_string(i);
        more.push_back(r);
    }
    auto sink = cdr::makePgCdrSink(dsn_);
    ASSERT_TRUE(sink->write(more).empty());
    ASSERT_TRUE(sink->write(more).empty());  // a replay
    // The batches' PDD histograms wait in cdr_rollup_pdd_pending until folded (schema/0006).
    EXPECT_EQ(scalar("SELECT count(*) > 0 FROM cdr_rollup_pdd_pending"), "t");
    EXPECT_NE(scalar("SELECT cdr_rollup_pdd_fold()"), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd_pending"), "0");
    EXPECT_EQ(scalar("SELECT sum(calls) FROM cdr_rollup"), "23");  // 2 x 11 + the next day's
    // 9 keys (gateway, code, reason, direction) in 2026-01-01 00:00 and the next day's call.
    EXPECT_EQ(expectRollupAsRebuilt(), "10");
    // 2 x 11 calls rang or answered on 2026-01-01 plus the next day's, in each dimension.
    EXPECT_EQ(scalar("SELECT sum(n) FROM cdr_rollup_pdd, unnest(pdd_counts) n "
                     "WHERE dimension = 'gateway'"),
              "15");
}

// Folding the pending PDD histograms (schema/0006) changes where they are, never the figures:
// the same percentiles with every histogram pending, half of them folded, and all folded.
TEST_F(CdrStats, FoldingThePendingHistogramsKeepsTheFigures)
{
    const auto pending = stats("gateway");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd"), "0");
    ASSERT_EQ(pending.size(), 3u);
    EXPECT_EQ(pending[0].at("pdd_p50_ms"), 2015);

    // More calls of the same hours, split: one batch folded, the next one left pending.
    auto sink = cdr::makePgCdrSink(dsn_);
    std::vector<cdr::CdrRecord> first;
    std::vector<cdr::CdrRecord> second;
    for (std::size_t i = 0; i < calls().size(); ++i) {
        auto r = toRecord(static_cast<int>(i) + 1, calls()[i]);
        r.callId = "again-" + std::to_string(i);
        (i % 2 == 0 ? first : second).push_back(r);
    }
    ASSERT_TRUE(sink->write(first).empty());
    EXPECT_NE(scalar("SELECT cdr_rollup_pdd_fold()"), "0");
    ASSERT_TRUE(sink->write(second).empty());
    EXPECT_EQ(scalar("SELECT count(*) > 0 FROM cdr_rollup_pdd_pending"), "t");
    const auto split = stats("gateway");
    EXPECT_NE(scalar("SELECT cdr_rollup_pdd_fold()"), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM cdr_rollup_pdd_pending"), "0");
    const auto folded = stats("gateway");
    EXPECT_EQ(split, folded);
    // Every call twice: the same percentiles, twice the calls.
    ASSERT_EQ(folded.size(), 3u);
    for (std::size_t i = 0; i < folded.size(); ++i) {
        EXPECT_EQ(folded[i].at("group"), pending[i].at("group"));
        EXPECT_EQ(folded[i].at("calls"), 2 * pending[i].at("calls").get<int>());
        EXPECT_EQ(folded[i].at("pdd_p50_ms"), pending[i].at("pdd_p50_ms"));
        EXPECT_EQ(folded[i].at("pdd_p95_ms"), pending[i].at("pdd_p95_ms"));
    }
}

TEST_F(CdrStats, TableAndCsvShowTheSameFigures)
{
    const auto table = swctl(dsn_, {"cdr", "stats", "--since", "2026-01-01", "--until",
                                    "2026-01-02"});
    ASSERT_EQ(table.exitCode, 0) << table.err;
    EXPECT_THAT(table.out, ::testing::StartsWith("GATEWAY  CALLS  ANSWERED  ASR"));
    EXPECT_THAT(table.out, ::testing::ContainsRegex(
                               "gwA +5 +3 +60.0% +60.0 +80.0% +2015 +4031 +"
                               "all_gateways_failed/503:1, callee_rejected/486:1"));
    EXPECT_THAT(table.out,
                ::testing::ContainsRegex("- +1 +0 +0.0% +- +0.0% +- +- +no_route/404:1"));
    const auto csv = swctl(dsn_, {"cdr", "stats", "--since", "2026-01-01", "--until",
                                  "2026-01-02", "--by", "code", "--format", "csv"});
    ASSERT_EQ(csv.exitCode, 0) << csv.err;
    EXPECT_THAT(csv.out, ::testing::StartsWith(
                             "group,calls,answered,asr,acd_s,ner,pdd_p50_ms,pdd_p95_ms,failures\r\n"
                             "200,4,4,1.0000,47.5,1.0000,1007,3007,\r\n"
                             "503,4,0,0.0000,,0.0000,6015,6015,"
                             "all_gateways_failed/503:3;callee_rejected/503:1\r\n"));
}

TEST_F(CdrStats, RefusesBadValuesWithExitTwoNamingTheField)
{
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--by", "site"}, "--by: \"site\" is not allowed; expected gateway, code, reason or "
                           "end-direction"},
        {{"--since", "yesterday"}, "--since: \"yesterday\" is not allowed"},
        {{"--until", "soon"}, "--until: \"soon\" is not allowed"},
        {{"--top", "101"}, "--top: \"101\" is not allowed; expected an integer from 0 to 100"},
        {{"--format", "xml"}, "--format: \"xml\" is not allowed"},
    };
    for (const auto& [args, message] : cases) {
        std::vector<std::string> argv = {"cdr", "stats"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = swctl(dsn_, argv);
        EXPECT_EQ(r.exitCode, 2) << args[0];
        EXPECT_THAT(r.err, HasSubstr(message));
        EXPECT_EQ(r.out, "");
    }
    // Checked before the database is reached.
    EXPECT_EQ(swctl(kUnreachableDsn, {"cdr", "stats", "--by", "site"}).exitCode, 2);
    EXPECT_EQ(swctl(kUnreachableDsn, {"cdr", "stats"}).exitCode, 1);
}

}  // namespace
}  // namespace ss::pgtest
