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
    ASSERT_EQ(list.size(), 15u);
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
