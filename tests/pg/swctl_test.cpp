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

}  // namespace
}  // namespace ss::pgtest
