// SPDX-License-Identifier: Apache-2.0
// The built swctl binary against a real database: exit codes (SPEC §1), refused values change
// nothing, --json output.

#include "cdr/store.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

namespace ss::pgtest {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

class Swctl : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            const auto r = swctl(dsn_, {"db", "migrate", "--schema-dir", SS_SCHEMA_DIR});
            ASSERT_EQ(r.exitCode, 0) << r.err;
            ASSERT_EQ(r.out, "schema version " + std::to_string(cdr::expectedSchemaVersion()) +
                                 "\n");
        }
    }
    ProcessResult run(std::vector<std::string> args) { return swctl(dsn_, std::move(args)); }
    json runJson(std::vector<std::string> args)
    {
        args.push_back("--json");
        const auto r = run(std::move(args));
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return json::parse(r.out);
    }
    // What the gateway and route tables hold, as swctl shows it.
    std::string state()
    {
        return runJson({"gateway", "list"}).dump() + runJson({"route", "list"}).dump();
    }
};

TEST_F(Swctl, MigrateReportsTheVersionAsJson)
{
    const auto j = runJson({"db", "migrate", "--schema-dir", SS_SCHEMA_DIR});
    EXPECT_EQ(j.at("version"), cdr::expectedSchemaVersion());
}

TEST_F(Swctl, AddsAndListsAGatewayWithDefaults)
{
    const auto r = run({"gateway", "add", "term1", "--role", "termination", "--host", "10.0.1.1",
                        "--opt", "failover-codes=408,5xx", "--opt", "enable-100rel=on"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    ASSERT_EQ(run({"gateway", "add", "orig1", "--role", "origination", "--host", "10.0.0.1",
                   "--transport", "tcp", "--capacity", "30", "--cps", "5", "--site", "fra",
                   "--prefix-strip", "2", "--prefix-add", "0049"})
                  .exitCode,
              0);

    const auto list = runJson({"gateway", "list"});
    ASSERT_EQ(list.size(), 2u);
    const auto& orig = list[0];
    EXPECT_EQ(orig.at("name"), "orig1");
    EXPECT_EQ(orig.at("port"), 0);  // origination without a port: any source port
    EXPECT_EQ(orig.at("transport"), "tcp");
    EXPECT_EQ(orig.at("capacity"), 30);
    EXPECT_EQ(orig.at("cps"), 5);
    EXPECT_EQ(orig.at("site"), "fra");
    EXPECT_EQ(orig.at("prefix_strip"), 2);
    EXPECT_EQ(orig.at("prefix_add"), "0049");
    const auto& term = list[1];
    EXPECT_EQ(term.at("port"), 5060);  // termination default
    EXPECT_EQ(term.at("transport"), "udp");
    EXPECT_EQ(term.at("options"), (json{{"enable-100rel", "on"}, {"failover-codes", "408,5xx"}}));
    EXPECT_EQ(term.at("enabled"), true);
}

TEST_F(Swctl, RefusedValuesExitTwoNamingTheFieldAndChangeNothing)
{
    ASSERT_EQ(run({"gateway", "add", "term1", "--role", "termination", "--host", "10.0.1.1"})
                  .exitCode,
              0);
    const auto before = state();
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2", "--capacity",
          "-3"},
         "--capacity: \"-3\" is not allowed; expected an integer >= 0"},
        {{"gateway", "add", "g2", "--role", "transit", "--host", "10.0.1.2"},
         "--role: \"transit\" is not allowed; expected origination or termination"},
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2:70000"},
         "--host: \"10.0.1.2:70000\""},
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2", "--prefix-strip",
          "33"},
         "--prefix-strip: \"33\" is not allowed; expected an integer from 0 to 32"},
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2", "--prefix-add",
          "12a"},
         "--prefix-add: \"12a\""},
        {{"gateway", "add", "g 2", "--role", "termination", "--host", "10.0.1.2"},
         "NAME: \"g 2\""},
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2", "--opt",
          "bogus=1"},
         "--opt: \"bogus=1\" is not allowed; expected KEY=VALUE with KEY one of"},
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2", "--opt",
          "connerr-retry-timeout=soon"},
         "--opt connerr-retry-timeout: \"soon\""},
        {{"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2", "--opt",
          "session-timer=yes"},
         "--opt session-timer: \"yes\" is not allowed; expected on or off"},
        {{"gateway", "add", "term1", "--role", "termination", "--host", "10.0.1.9"},
         "NAME: \"term1\" is not allowed"},
        {{"route", "add", "--prefix", "49x", "--gateway", "term1"}, "--prefix: \"49x\""},
        {{"route", "add", "--prefix", "49", "--gateway", "nope"}, "--gateway: \"nope\""},
        {{"route", "add", "--prefix", "49", "--gateway", "term1", "--weight", "0"},
         "--weight: \"0\" is not allowed; expected an integer from 1 to 65535"},
        {{"route", "remove", "abc"}, "ID: \"abc\""},
        {{"route", "remove", "999"}, "ID: \"999\""},
        {{"gateway", "remove", "nope"}, "NAME: \"nope\""},
        {{"cdr", "query", "--since", "yesterday"}, "--since: \"yesterday\""},
        {{"cdr", "query", "--end-direction", "up"}, "--end-direction: \"up\""},
        {{"cdr", "query", "--format", "xml"}, "--format: \"xml\""},
        {{"cdr", "query", "--limit", "0"}, "--limit: \"0\""},
    };
    for (const auto& c : cases) {
        const auto r = run(c.args);
        EXPECT_EQ(r.exitCode, 2) << c.args[0] << " " << c.args[1] << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("swctl: " + c.message)) << r.err;
        EXPECT_EQ(r.out, "");
    }
    EXPECT_EQ(state(), before);
}

TEST_F(Swctl, UsageErrorsExitTwo)
{
    EXPECT_EQ(run({"gateway", "add", "g2", "--host", "10.0.1.2"}).exitCode, 2);  // no --role
    EXPECT_EQ(run({"gateway", "list", "--bogus"}).exitCode, 2);
    EXPECT_EQ(run({"frobnicate"}).exitCode, 2);
    EXPECT_EQ(run({}).exitCode, 2);
    EXPECT_EQ(run({"gateway", "--help"}).exitCode, 0);
}

TEST_F(Swctl, AnUnreachableDatabaseExitsOne)
{
    const auto r = swctl(kUnreachableDsn, {"gateway", "list"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_THAT(r.err, HasSubstr("database unreachable"));
    // A bad value is still a usage error, found before connecting.
    EXPECT_EQ(swctl(kUnreachableDsn, {"gateway", "add", "g", "--role", "termination", "--host",
                                       "10.0.0.1", "--cps", "x"})
                  .exitCode,
              2);
}

TEST_F(Swctl, AddsListsAndRemovesRoutes)
{
    ASSERT_EQ(run({"gateway", "add", "term1", "--role", "termination", "--host", "10.0.1.1"})
                  .exitCode,
              0);
    const auto added =
        runJson({"route", "add", "--prefix", "49", "--gateway", "term1", "--priority", "5"});
    EXPECT_EQ(added.at("prefix"), "49");
    const auto list = runJson({"route", "list"});
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0], added);
    EXPECT_EQ(list[0].at("priority"), 5);
    EXPECT_EQ(list[0].at("weight"), 100);

    const auto busy = run({"gateway", "remove", "term1"});
    EXPECT_EQ(busy.exitCode, 2);
    EXPECT_THAT(busy.err, HasSubstr("route(s) still use it"));

    const auto id = std::to_string(added.at("id").get<long>());
    EXPECT_EQ(run({"route", "remove", id}).exitCode, 0);
    EXPECT_EQ(runJson({"route", "list"}), json::array());
    EXPECT_EQ(run({"gateway", "remove", "term1"}).exitCode, 0);
    EXPECT_EQ(runJson({"gateway", "list"}), json::array());
}

TEST_F(Swctl, RouteAddStoresASiteOrderAndListShowsIt)
{
    ASSERT_EQ(run({"gateway", "add", "term1", "--role", "termination", "--host", "10.0.1.1"})
                  .exitCode,
              0);
    ASSERT_EQ(run({"gateway", "add", "term2", "--role", "termination", "--host", "10.0.1.2"})
                  .exitCode,
              0);
    const auto r = run({"route", "add", "--prefix", "49", "--gateway", "term1", "--site-order",
                        "east,west"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("(sites east,west)"));
    ASSERT_EQ(run({"route", "add", "--prefix", "49", "--gateway", "term2"}).exitCode, 0);
    EXPECT_EQ(scalar("SELECT string_agg(site_order, '|' ORDER BY id) FROM route"), "east,west|");

    const auto list = runJson({"route", "list"});
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("site_order"), (json{"east", "west"}));
    EXPECT_EQ(list[1].at("site_order"), json::array());
    const auto table = run({"route", "list"});
    ASSERT_EQ(table.exitCode, 0) << table.err;
    EXPECT_THAT(table.out, ::testing::StartsWith("ID  PREFIX  GATEWAY  PRIORITY  WEIGHT  "
                                                 "SITE_ORDER\n"));
    EXPECT_THAT(table.out, ::testing::ContainsRegex("49 +term1 +100 +100 +east,west\n"));
    EXPECT_THAT(table.out, ::testing::ContainsRegex("49 +term2 +100 +100 +-\n"));

    // A second order for the same prefix is stored, but the first one stays in force: say so.
    ASSERT_EQ(run({"gateway", "add", "term3", "--role", "termination", "--host", "10.0.1.3"})
                  .exitCode,
              0);
    const auto other =
        run({"route", "add", "--prefix", "49", "--gateway", "term3", "--site-order", "west"});
    EXPECT_EQ(other.exitCode, 0) << other.err;
    EXPECT_THAT(other.err, HasSubstr("keeps site order east,west from route"));
}

TEST_F(Swctl, RouteAddRefusesBadSiteOrdersNamingTheFieldAndChangesNothing)
{
    ASSERT_EQ(run({"gateway", "add", "term1", "--role", "termination", "--host", "10.0.1.1"})
                  .exitCode,
              0);
    const auto before = state();
    const std::string tooLong(65, 'a');
    const std::vector<std::string> bad = {"east,,west", "we st",    tooLong, "east," + tooLong,
                                          ",east",      "east,",    "east,east"};
    for (const auto& value : bad) {
        const auto r = run({"route", "add", "--prefix", "49", "--gateway", "term1",
                            "--site-order", value});
        EXPECT_EQ(r.exitCode, 2) << value << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("swctl: --site-order: \"" + value + "\" is not allowed; "
                                     "expected comma-separated site names"))
            << r.err;
        EXPECT_THAT(r.err, HasSubstr("1 to 64 characters from A-Z a-z 0-9 _ . -"));
        EXPECT_EQ(r.out, "");
    }
    EXPECT_EQ(state(), before);
    EXPECT_EQ(scalar("SELECT count(*) FROM route"), "0");
}

// A call that failed over twice: rejected by term1, term3 skipped, answered by term2. The
// attempts are handed to the sink out of order; `cdr show` orders them by seq.
cdr::CdrRecord threeAttemptCall()
{
    using namespace std::chrono_literals;
    auto r = makeRecord(1);
    const auto t0 = r.setupAt;
    r.attempts = {
        {3, "term2", "10.0.1.2:5060", "tcp", t0 + 520ms, t0 + 63250ms, 200, "answered"},
        {1, "term1", "10.0.1.1:5060", "udp", t0 + 10ms, t0 + 510ms, 503, "rejected"},
        {2, "term3", "10.0.1.3:5060", "udp", t0 + 515ms, t0 + 515ms, 0, "skipped"},
    };
    return r;
}

TEST_F(Swctl, CdrShowJsonIsTheCallWithItsAttemptsBySeq)
{
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({threeAttemptCall(), makeRecord(2)}).empty());
    const auto calls = runJson({"cdr", "show", "call-1"});
    ASSERT_EQ(calls.size(), 1u);
    const auto& call = calls[0];
    // Every cdr column (attempts is the count), and the chain.
    for (const auto& column : {"id", "node", "call_id", "caller", "callee", "callee_out",
                               "origin_gateway", "origin_addr", "term_gateway", "term_addr",
                               "setup_at", "ring_at", "answer_at", "end_at", "pdd_ms",
                               "hold_ms", "end_direction", "end_reason", "disposition",
                               "sip_code", "sip_reason", "q850_cause"}) {
        EXPECT_TRUE(call.contains(column)) << column;
    }
    EXPECT_EQ(call.size(), 24u);
    EXPECT_EQ(call.at("call_id"), "call-1");
    EXPECT_EQ(call.at("node"), "node-a");
    EXPECT_EQ(call.at("setup_at"), "2026-01-01T00:00:01.123Z");
    EXPECT_EQ(call.at("end_reason"), "callee_bye");
    EXPECT_EQ(call.at("sip_code"), 200);
    const json expected = json::parse(R"([
        {"seq": 1, "gateway": "term1", "addr": "10.0.1.1:5060", "transport": "udp",
         "started_at": "2026-01-01T00:00:01.133Z", "ended_at": "2026-01-01T00:00:01.633Z",
         "duration_ms": 500, "sip_code": 503, "outcome": "rejected"},
        {"seq": 2, "gateway": "term3", "addr": "10.0.1.3:5060", "transport": "udp",
         "started_at": "2026-01-01T00:00:01.638Z", "ended_at": "2026-01-01T00:00:01.638Z",
         "duration_ms": 0, "sip_code": null, "outcome": "skipped"},
        {"seq": 3, "gateway": "term2", "addr": "10.0.1.2:5060", "transport": "tcp",
         "started_at": "2026-01-01T00:00:01.643Z", "ended_at": "2026-01-01T00:01:04.373Z",
         "duration_ms": 62730, "sip_code": 200, "outcome": "answered"}
    ])");
    EXPECT_EQ(call.at("attempt_list"), expected);
    EXPECT_EQ(call.at("attempts"), 3);  // the count, as in `cdr query`
    // --format json is the same.
    EXPECT_EQ(json::parse(run({"cdr", "show", "call-1", "--format", "json"}).out), calls);
}

TEST_F(Swctl, CdrShowTableListsTheCallThenItsAttempts)
{
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({threeAttemptCall()}).empty());
    const auto r = run({"cdr", "show", "call-1"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, ::testing::ContainsRegex("(^|\n)call_id: +call-1\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nterm_gateway: +term2\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nattempts: +3\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nring_at: +2026-01-01T00:00:02.623Z\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nend_reason: +callee_bye\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nq850_cause: +16\n"));
    const auto header = r.out.find("SEQ  GATEWAY  ADDR  ");
    ASSERT_NE(header, std::string::npos) << r.out;
    EXPECT_THAT(r.out.substr(header), ::testing::StartsWith(
                                          "SEQ  GATEWAY  ADDR           TRANSPORT  STARTED_AT"));
    const auto first = r.out.find("\n1    term1    10.0.1.1:5060  udp        "
                                  "2026-01-01T00:00:01.133Z  2026-01-01T00:00:01.633Z  500  ");
    const auto second = r.out.find("\n2    term3    10.0.1.3:5060  udp        "
                                   "2026-01-01T00:00:01.638Z  2026-01-01T00:00:01.638Z  0    ");
    const auto third = r.out.find("\n3    term2    10.0.1.2:5060  tcp        "
                                  "2026-01-01T00:00:01.643Z  2026-01-01T00:01:04.373Z  62730");
    ASSERT_NE(first, std::string::npos) << r.out;
    ASSERT_NE(second, std::string::npos) << r.out;
    ASSERT_NE(third, std::string::npos) << r.out;
    EXPECT_LT(header, first);
    EXPECT_LT(first, second);
    EXPECT_LT(second, third);
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\n1 +term1 .* 500 +503 +rejected\n"));
    // No final response from the skipped gateway: no code (NULL), not 0.
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\n2 +term3 .* 0 +skipped\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\n3 +term2 .* 62730 +200 +answered\n$"));
}

TEST_F(Swctl, CdrShowListsEveryNodesCallWithThatId)
{
    auto fromB = makeRecord(1);
    fromB.node = "node-b";
    fromB.attempts.resize(1);
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({threeAttemptCall(), fromB}).empty());
    const auto calls = runJson({"cdr", "show", "call-1"});
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].at("node"), "node-a");
    EXPECT_EQ(calls[0].at("attempt_list").size(), 3u);
    EXPECT_EQ(calls[1].at("node"), "node-b");
    ASSERT_EQ(calls[1].at("attempt_list").size(), 1u);
    EXPECT_EQ(calls[1].at("attempt_list")[0].at("outcome"), "rejected");

    const auto table = run({"cdr", "show", "call-1"});
    ASSERT_EQ(table.exitCode, 0) << table.err;
    EXPECT_THAT(table.out, ::testing::ContainsRegex("node: +node-a\n(.*\n)+node: +node-b\n"));

    // CSV: one line per attempt, the call's columns on each.
    const auto csv = run({"cdr", "show", "call-1", "--format", "csv"});
    ASSERT_EQ(csv.exitCode, 0) << csv.err;
    EXPECT_THAT(csv.out, ::testing::StartsWith(
                             "id,node,call_id,caller,callee,callee_out,origin_gateway,"
                             "origin_addr,term_gateway,term_addr,attempts,setup_at,ring_at,"
                             "answer_at,end_at,pdd_ms,hold_ms,end_direction,end_reason,"
                             "disposition,sip_code,sip_reason,q850_cause,attempt_seq,"
                             "attempt_gateway,attempt_addr,attempt_transport,attempt_started_at,"
                             "attempt_ended_at,attempt_duration_ms,attempt_sip_code,"
                             "attempt_outcome\r\n"));
    EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 5);  // header + 3 + 1
    EXPECT_THAT(csv.out, HasSubstr(",node-b,call-1,"));
    EXPECT_THAT(csv.out,
                HasSubstr(",2,term3,10.0.1.3:5060,udp,2026-01-01T00:00:01.638Z,"
                          "2026-01-01T00:00:01.638Z,0,,skipped\r\n"));
}

TEST_F(Swctl, CdrShowOfAnUnknownCallIdExitsOne)
{
    ASSERT_TRUE(cdr::makePgCdrSink(dsn_)->write({makeRecord(1)}).empty());
    for (const bool asJson : {false, true}) {
        std::vector<std::string> args = {"cdr", "show", "call-404"};
        if (asJson) {
            args.push_back("--json");
        }
        const auto r = run(args);
        EXPECT_EQ(r.exitCode, 1);
        EXPECT_EQ(r.err, "swctl: no CDR with call id call-404\n");
        EXPECT_EQ(r.out, "");
    }
    // Usage errors stay exit 2.
    EXPECT_EQ(run({"cdr", "show"}).exitCode, 2);
    EXPECT_EQ(run({"cdr", "show", "call-1", "--format", "xml"}).exitCode, 2);
    EXPECT_EQ(run({"cdr", "show", ""}).exitCode, 2);
    // And an unreachable database exit 1.
    const auto down = swctl(kUnreachableDsn, {"cdr", "show", "call-1"});
    EXPECT_EQ(down.exitCode, 1);
    EXPECT_THAT(down.err, HasSubstr("database unreachable"));
}

TEST_F(Swctl, CdrQueryJsonHasExactlyTheSpecColumns)
{
    auto unanswered = makeRecord(2);
    unanswered.answerAt.reset();
    cdr::makePgCdrSink(dsn_)->write({makeRecord(1), unanswered});

    const auto rows = runJson({"cdr", "query", "--since", "2026-01-01T00:00:00Z"});
    ASSERT_EQ(rows.size(), 2u);
    std::vector<std::string> keys;
    for (const auto& [key, value] : rows[1].items()) {
        keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> spec = {
        "id",          "node",         "call_id",       "caller",     "callee",
        "callee_out",  "origin_gateway", "origin_addr", "term_gateway", "term_addr",
        "attempts",    "setup_at",     "ring_at",       "answer_at",  "end_at",
        "pdd_ms",      "hold_ms",      "end_direction", "end_reason", "disposition",
        "sip_code",    "sip_reason",   "q850_cause"};
    std::sort(spec.begin(), spec.end());
    EXPECT_EQ(keys, spec);

    EXPECT_EQ(rows[0].at("call_id"), "call-2");  // newest first
    EXPECT_TRUE(rows[0].at("answer_at").is_null());
    EXPECT_EQ(rows[1].at("setup_at"), "2026-01-01T00:00:01.123Z");
    EXPECT_EQ(rows[1].at("answer_at"), "2026-01-01T00:00:04.373Z");
    EXPECT_EQ(rows[1].at("attempts"), 2);
    EXPECT_EQ(rows[1].at("end_direction"), "callee");

    // --format json is the same; the filters reach the query.
    EXPECT_EQ(json::parse(run({"cdr", "query", "--format", "json", "--since",
                               "2026-01-01T00:00:00Z"})
                              .out),
              rows);
    EXPECT_EQ(runJson({"cdr", "query", "--until", "2026-01-01T00:00:02Z"}).size(), 1u);
    EXPECT_EQ(runJson({"cdr", "query", "--callee", "49892"}).size(), 1u);
    EXPECT_EQ(runJson({"cdr", "query", "--gateway", "orig1", "--code", "200", "--reason",
                       "callee_bye", "--end-direction", "callee", "--limit", "1"})
                  .size(),
              1u);
    EXPECT_EQ(runJson({"cdr", "query", "--since", "-1h"}).size(), 0u);  // 2026-01-01 is past
}

TEST_F(Swctl, CdrQueryCsvStartsWithTheColumnNames)
{
    cdr::makePgCdrSink(dsn_)->write({makeRecord(1)});
    const auto r = run({"cdr", "query", "--format", "csv"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_THAT(r.out, ::testing::StartsWith("id,node,call_id,caller,callee,callee_out,"));
    EXPECT_THAT(r.out, HasSubstr(",call-1,4930123,49891,00491,"));
}

TEST_F(Swctl, OptTakesExactlyOneKeyValueEachTime)
{
    // NAME after --opt is the gateway's name, not a second option.
    const auto r = run({"gateway", "add", "--opt", "enable-100rel=on", "term1", "--role",
                        "termination", "--host", "10.0.1.1", "--opt", "session-timer=off",
                        "--opt=options-ping=30"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto list = runJson({"gateway", "list"});
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].at("name"), "term1");
    EXPECT_EQ(list[0].at("options"), (json{{"enable-100rel", "on"},
                                           {"options-ping", "30"},
                                           {"session-timer", "off"}}));

    const auto before = state();
    // Two pairs after one --opt: the second is an unexpected argument.
    const auto two = run({"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2",
                          "--opt", "enable-100rel=on", "session-timer=off"});
    EXPECT_EQ(two.exitCode, 2);
    EXPECT_THAT(two.err, HasSubstr("session-timer=off"));
    // --opt without a value.
    EXPECT_EQ(run({"gateway", "add", "g2", "--role", "termination", "--host", "10.0.1.2",
                   "--opt"})
                  .exitCode,
              2);
    // The same key twice.
    const auto twice = run({"gateway", "add", "g2", "--role", "termination", "--host",
                            "10.0.1.2", "--opt", "options-ping=1", "--opt", "options-ping=2"});
    EXPECT_EQ(twice.exitCode, 2);
    EXPECT_THAT(twice.err, HasSubstr("each KEY at most once"));
    EXPECT_EQ(state(), before);
}

// Parameters (SPEC §2) as `swctl param` shows them: by name, from `param list --json`.
class SwctlParam : public Swctl {
protected:
    json param(const std::string& name)
    {
        for (const auto& p : runJson({"param", "list"})) {
            if (p.at("name") == name) {
                return p;
            }
        }
        ADD_FAILURE() << name << " not listed";
        return json();
    }
    // The table `param`, as NAME=VALUE by name.
    std::string table()
    {
        return scalar("SELECT coalesce(string_agg(name || '=' || value, ',' ORDER BY name), '') "
                      "FROM param");
    }
};

TEST_F(SwctlParam, ListShowsEveryParameterWithItsDefaultAndAllowedValues)
{
    const auto list = runJson({"param", "list"});
    ASSERT_EQ(list.size(), 16u);  // SPEC §2 and SS_CDR_RETENTION_DAYS
    EXPECT_EQ(list[0].at("name"), "SS_SIP_RESEND_INTERVAL");  // SPEC order
    const auto p = param("SS_SIP_TIMEOUT_INVITE");
    EXPECT_EQ(p.at("value"), "10");
    EXPECT_EQ(p.at("default"), "10");
    EXPECT_EQ(p.at("allowed"), "1-300 (s)");
    EXPECT_EQ(p.at("changed"), false);
    EXPECT_TRUE(p.at("stored").is_null());

    const auto text = run({"param", "list"});
    ASSERT_EQ(text.exitCode, 0) << text.err;
    EXPECT_THAT(text.out, ::testing::StartsWith("NAME "));
    EXPECT_THAT(text.out, HasSubstr("DEFAULT"));
    EXPECT_THAT(text.out, HasSubstr("CHANGED"));
    EXPECT_THAT(text.out, HasSubstr("ALLOWED"));
    EXPECT_THAT(text.out,
                ::testing::ContainsRegex("SS_GATEWAY_BLACKLIST_TIME +600 +600 +no +0-86400"));
}

TEST_F(SwctlParam, SetStoresTheNormalizedValueAndGetAndListShowIt)
{
    auto r = run({"param", "set", "SS_SIP_TIMEOUT_INVITE", "007"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, "SS_SIP_TIMEOUT_INVITE = 7 (was 10, the default)\n");
    ASSERT_EQ(run({"param", "set", "SS_SIP_ENABLE_100REL", "ON"}).exitCode, 0);
    ASSERT_EQ(run({"param", "set", "SS_SIP_RESEND_INTERVAL", "0.50, 1,2"}).exitCode, 0);
    ASSERT_EQ(run({"param", "set", "SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP", "0"}).exitCode, 0);
    EXPECT_EQ(table(),
              "SS_SIP_ENABLE_100REL=on,SS_SIP_RESEND_INTERVAL=0.5,1,2,"
              "SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP=0,SS_SIP_TIMEOUT_INVITE=7");

    EXPECT_EQ(run({"param", "get", "SS_SIP_TIMEOUT_INVITE"}).out, "7\n");
    EXPECT_EQ(run({"param", "get", "SS_SIP_TIMEOUT_TRYING"}).out, "20\n");  // default
    const auto got = runJson({"param", "get", "SS_SIP_RESEND_INTERVAL"});
    EXPECT_EQ(got.at("value"), "0.5,1,2");
    EXPECT_EQ(got.at("changed"), true);
    EXPECT_EQ(param("SS_SIP_ENABLE_100REL").at("changed"), true);
    // Stored, but equal to the default: not a change.
    EXPECT_EQ(param("SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP").at("changed"), false);
    EXPECT_EQ(param("SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP").at("stored"), "0");

    r = run({"param", "set", "SS_SIP_TIMEOUT_INVITE", "7"});
    EXPECT_EQ(r.out, "SS_SIP_TIMEOUT_INVITE = 7 (unchanged)\n");
    const auto set = runJson({"param", "set", "SS_SIP_TIMEOUT_INVITE", "300"});
    EXPECT_EQ(set.at("value"), "300");
    EXPECT_EQ(set.at("changed"), true);
}

TEST_F(SwctlParam, RefusedValuesExitTwoWithTheRegistryMessageAndChangeNothing)
{
    ASSERT_EQ(run({"param", "set", "SS_SIP_TIMEOUT_INVITE", "7"}).exitCode, 0);
    const auto before = table();
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"param", "set", "SS_NO_SUCH", "1"}, "parameter \"SS_NO_SUCH\" does not exist"},
        {{"param", "set", "ss_sip_timeout_invite", "5"}, "\"ss_sip_timeout_invite\" does not"},
        {{"param", "set", "SS_SIP_TIMEOUT_INVITE", "0"},
         "SS_SIP_TIMEOUT_INVITE: \"0\" is not allowed; expected 1-300 (s)"},
        {{"param", "set", "SS_SIP_TIMEOUT_INVITE", "301"}, "\"301\" is not allowed"},
        {{"param", "set", "SS_SIP_TIMEOUT_INVITE", "-1"}, "\"-1\" is not allowed"},
        {{"param", "set", "SS_SIP_TIMEOUT_INVITE", "ten"}, "\"ten\" is not allowed"},
        {{"param", "set", "SS_SIP_TIMEOUT_INVITE", ""}, "\"\" is not allowed"},
        {{"param", "set", "SS_SIP_TIMEOUT_INVITE", "1.5"}, "\"1.5\" is not allowed"},
        {{"param", "set", "SS_SIP_NO_TIMER_REINVITE_INTERVAL", "59"},
         "expected 0 (off) or 60-86400 (s)"},
        {{"param", "set", "SS_SIP_ENABLE_100REL", "yes"}, "expected on or off"},
        {{"param", "set", "SS_SIP_RESEND_INTERVAL", "0.5,1,"}, "\"0.5,1,\" is not allowed"},
        {{"param", "set", "SS_SIP_RESEND_INTERVAL", "0.05"}, "each 0.1-60"},
        {{"param", "set", "SS_SIP_RESEND_INTERVAL", "1,1,1,1,1,1,1,1,1,1,1"}, "1-10 comma"},
        {{"param", "get", "SS_NO_SUCH"}, "parameter \"SS_NO_SUCH\" does not exist"},
        {{"param", "reset", "SS_NO_SUCH"}, "parameter \"SS_NO_SUCH\" does not exist"},
    };
    for (const auto& c : cases) {
        const auto r = run(c.args);
        EXPECT_EQ(r.exitCode, 2) << c.args[1] << " " << c.args[2] << ": " << r.err;
        EXPECT_THAT(r.err, ::testing::StartsWith("swctl: "));
        EXPECT_THAT(r.err, HasSubstr(c.message));
        EXPECT_EQ(r.out, "");
    }
    EXPECT_EQ(table(), before);
    EXPECT_EQ(run({"param", "set", "SS_SIP_TIMEOUT_INVITE"}).exitCode, 2);  // no VALUE
    // Validation comes before the database: exit 2 even when it is unreachable.
    EXPECT_EQ(swctl(kUnreachableDsn, {"param", "set", "SS_SIP_TIMEOUT_INVITE", "0"}).exitCode, 2);
    EXPECT_EQ(swctl(kUnreachableDsn, {"param", "set", "SS_SIP_TIMEOUT_INVITE", "5"}).exitCode, 1);
}

TEST_F(SwctlParam, ResetDeletesTheRowSoTheDefaultApplies)
{
    ASSERT_EQ(run({"param", "set", "SS_GATEWAY_SWITCH_LIMIT", "3"}).exitCode, 0);
    auto r = run({"param", "reset", "SS_GATEWAY_SWITCH_LIMIT"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, "SS_GATEWAY_SWITCH_LIMIT = 0 (the default; was 3)\n");
    EXPECT_EQ(table(), "");
    r = run({"param", "reset", "SS_GATEWAY_SWITCH_LIMIT"});  // idempotent
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out, "SS_GATEWAY_SWITCH_LIMIT = 0 (the default; unchanged)\n");
    const auto j = runJson({"param", "reset", "SS_GATEWAY_SWITCH_LIMIT"});
    EXPECT_EQ(j.at("value"), "0");
    EXPECT_TRUE(j.at("stored").is_null());
}

TEST_F(SwctlParam, StoredValuesTheSwitchIgnoresAreFlaggedAndCanBeRemoved)
{
    // Written by other means than swctl (SQL, an older version).
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_SESSION_TTL', '5'), ('SS_OLD', 'x')");
    const auto r = run({"param", "list", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("SS_SIP_SESSION_TTL: \"5\" is not allowed"));
    EXPECT_THAT(r.err, HasSubstr("SS_OLD"));
    const auto p = param("SS_SIP_SESSION_TTL");
    EXPECT_EQ(p.at("value"), "1800");  // what the switch uses
    EXPECT_EQ(p.at("stored"), "5");
    EXPECT_THAT(p.at("error").get<std::string>(), HasSubstr("90-86400"));

    EXPECT_EQ(run({"param", "reset", "SS_OLD"}).exitCode, 0);
    EXPECT_EQ(run({"param", "reset", "SS_OLD"}).exitCode, 2);  // gone, and not a parameter
    EXPECT_EQ(run({"param", "reset", "SS_SIP_SESSION_TTL"}).exitCode, 0);
    EXPECT_EQ(table(), "");
}

}  // namespace
}  // namespace ss::pgtest
