// SPDX-License-Identifier: Apache-2.0
// swctl gateway show | set | enable | disable and swctl audit against a real database: every
// value checked before anything is written, `gateway set` all or nothing, each change audited
// with the OS user who made it.

#include "pg_fixture.h"

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include <pwd.h>
#include <unistd.h>

#include <map>

namespace ss::pgtest {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// The gateway `term1` (termination, 10.0.1.1) with two options and a route.
class SwctlGateway : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            migrateSchema();
            const auto r = run({"gateway", "add", "term1", "--role", "termination", "--host",
                                "10.0.1.1", "--opt", "failover-codes=408,5xx", "--opt",
                                "enable-100rel=on"});
            ASSERT_EQ(r.exitCode, 0) << r.err;
            ASSERT_EQ(run({"route", "add", "--prefix", "49", "--gateway", "term1"}).exitCode, 0);
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
    json gateway(const std::string& name) { return runJson({"gateway", "show", name}); }
    std::string audit()
    {
        return scalar("SELECT count(*) || ':' || coalesce(max(id), 0) FROM audit");
    }
    static std::string osUser()
    {
        const passwd* pw = ::getpwuid(::getuid());
        return pw != nullptr ? pw->pw_name : "";
    }
};

TEST_F(SwctlGateway, ShowPrintsEverySettingAndTheRoutesUsingIt)
{
    const auto j = gateway("term1");
    EXPECT_EQ(j.at("name"), "term1");
    EXPECT_EQ(j.at("role"), "termination");
    EXPECT_EQ(j.at("port"), 5060);
    EXPECT_EQ(j.at("enabled"), true);
    EXPECT_EQ(j.at("options"), (json{{"enable-100rel", "on"}, {"failover-codes", "408,5xx"}}));
    ASSERT_EQ(j.at("routes").size(), 1u);
    EXPECT_EQ(j.at("routes")[0].at("prefix"), "49");
    // The same object `gateway list` shows, plus its routes.
    auto listed = runJson({"gateway", "list"})[0];
    listed["routes"] = j.at("routes");
    EXPECT_EQ(listed, j);

    const auto r = run({"gateway", "show", "term1"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_THAT(r.out, ::testing::ContainsRegex("(^|\n)name: +term1\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nhost: +10.0.1.1\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\ncapacity: +0 \\(unlimited\\)\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\noption failover-codes: +408,5xx\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nroutes: +[0-9]+ \\(prefix 49, priority 100, "
                                                "weight 100\\)\n"));

    for (const std::string name : {"nope", "bad name"}) {
        const auto unknown = run({"gateway", "show", name});
        EXPECT_EQ(unknown.exitCode, 2);
        EXPECT_THAT(unknown.err, HasSubstr("swctl: NAME: \"" + name + "\" is not allowed"));
        EXPECT_EQ(unknown.out, "");
    }
}

TEST_F(SwctlGateway, SetChangesSeveralKeysInOneGoAndAuditsThemAsTheOsUser)
{
    const auto r = run({"gateway", "set", "term1", "host=10.0.1.9:5070", "capacity=30",
                        "cps=5", "transport=tcp", "site=fra", "prefix-strip=2",
                        "prefix-add=0049", "failover-codes=", "options-ping=30",
                        "retrydest-on-conerr=10.0.1.10", "connerr-retry-timeout=2000",
                        "connerr-max-retries=3", "session-timer=off", "stop-after-sdp=off",
                        "enable-100rel=off"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_THAT(r.out, ::testing::StartsWith("changed gateway term1:\n"));
    EXPECT_THAT(r.out, HasSubstr("  host: \"10.0.1.1\" -> \"10.0.1.9\"\n"));
    EXPECT_THAT(r.out, HasSubstr("  port: \"5060\" -> \"5070\"\n"));
    EXPECT_THAT(r.out, HasSubstr("  failover-codes: \"408,5xx\" -> (unset)\n"));
    EXPECT_THAT(r.out, HasSubstr("  options-ping: (unset) -> \"30\"\n"));

    const auto j = gateway("term1");
    EXPECT_EQ(j.at("host"), "10.0.1.9");
    EXPECT_EQ(j.at("port"), 5070);
    EXPECT_EQ(j.at("capacity"), 30);
    EXPECT_EQ(j.at("cps"), 5);
    EXPECT_EQ(j.at("transport"), "tcp");
    EXPECT_EQ(j.at("site"), "fra");
    EXPECT_EQ(j.at("prefix_strip"), 2);
    EXPECT_EQ(j.at("prefix_add"), "0049");
    EXPECT_EQ(j.at("options"), (json{{"connerr-max-retries", "3"},
                                     {"connerr-retry-timeout", "2000"},
                                     {"enable-100rel", "off"},
                                     {"options-ping", "30"},
                                     {"retrydest-on-conerr", "10.0.1.10"},
                                     {"session-timer", "off"},
                                     {"stop-after-sdp", "off"}}));

    // One audit row per changed field, old -> new, all by this OS user, at one time.
    const auto rows = runJson({"audit", "--kind", "gateway", "--name", "term1"});
    std::map<std::string, std::pair<json, json>> byField;
    for (const auto& row : rows) {
        if (row.at("action") == "set") {
            EXPECT_THAT(row.at("actor").get<std::string>(), ::testing::StartsWith("swctl:"));
            EXPECT_THAT(row.at("actor").get<std::string>(), HasSubstr(osUser()));
            byField[row.at("field")] = {row.at("old_value"), row.at("new_value")};
        }
    }
    EXPECT_EQ(byField.size(), 16u);  // 15 keys, host giving host and port
    EXPECT_EQ(byField.at("capacity"), std::make_pair(json("0"), json("30")));
    EXPECT_EQ(byField.at("port"), std::make_pair(json("5060"), json("5070")));
    EXPECT_EQ(byField.at("failover-codes"), std::make_pair(json("408,5xx"), json(nullptr)));
    EXPECT_EQ(byField.at("options-ping"), std::make_pair(json(nullptr), json("30")));
    EXPECT_EQ(scalar("SELECT count(DISTINCT at) FROM audit WHERE action = 'set'"), "1");

    // --json: the gateway and what changed; setting the same values again changes nothing.
    const auto again = runJson({"gateway", "set", "term1", "cps=6", "capacity=30"});
    EXPECT_EQ(again.at("cps"), 6);
    EXPECT_EQ(again.at("changed"), json::parse(R"([{"field": "cps", "old": "5", "new": "6"}])"));
    const auto before = audit();
    const auto same = run({"gateway", "set", "term1", "cps=6"});
    EXPECT_EQ(same.out, "gateway term1 unchanged\n");
    EXPECT_EQ(audit(), before);
    // host without a port: the termination default again.
    EXPECT_EQ(runJson({"gateway", "set", "term1", "host=gw.example.net"}).at("port"), 5060);
}

TEST_F(SwctlGateway, SetRefusesEachKindOfBadValueNamingItAndChangesNothing)
{
    const auto before = state();
    const auto auditBefore = audit();
    struct Case {
        std::vector<std::string> pairs;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"host=10.0.1.2:70000"}, "host: \"10.0.1.2:70000\" is not allowed; expected HOST[:PORT]"},
        {{"host="}, "host: \"\" is not allowed"},
        {{"host=10.0.0.256"}, "host: \"10.0.0.256\""},
        {{"transport=sctp"}, "transport: \"sctp\" is not allowed; expected udp or tcp"},
        {{"capacity=-1"}, "capacity: \"-1\" is not allowed; expected an integer >= 0"},
        {{"cps=fast"}, "cps: \"fast\" is not allowed; expected an integer >= 0"},
        {{"site=a b"}, "site: \"a b\" is not allowed; expected 1 to 64 characters"},
        {{"prefix-strip=33"},
         "prefix-strip: \"33\" is not allowed; expected an integer from 0 to 32"},
        {{"prefix-add=12a"}, "prefix-add: \"12a\" is not allowed; expected up to 32 digits"},
        {{"retrydest-on-conerr=sbc.example.net"},
         "retrydest-on-conerr: \"sbc.example.net\" is not allowed; expected IP[:PORT]"},
        {{"connerr-retry-timeout=0"},
         "connerr-retry-timeout: \"0\" is not allowed; expected an integer from 1 to 60000"},
        {{"connerr-max-retries=101"}, "connerr-max-retries: \"101\" is not allowed"},
        {{"enable-100rel=yes"}, "enable-100rel: \"yes\" is not allowed; expected on or off"},
        {{"options-ping=-5"}, "options-ping: \"-5\" is not allowed"},
        {{"session-timer=1"}, "session-timer: \"1\" is not allowed; expected on or off"},
        {{"failover-codes=200"}, "failover-codes: \"200\" is not allowed; expected a comma"},
        {{"stop-after-sdp=maybe"}, "stop-after-sdp: \"maybe\" is not allowed"},
        {{"bogus=1"}, "KEY=VALUE: \"bogus=1\" is not allowed; expected KEY=VALUE with KEY one of "
                      "host, transport, capacity"},
        {{"role=origination"}, "KEY=VALUE: \"role=origination\" is not allowed"},
        {{"capacity"}, "KEY=VALUE: \"capacity\" is not allowed"},
        {{"cps=1", "cps=2"}, "KEY=VALUE: \"cps=2\" is not allowed; expected each KEY at most once"},
    };
    for (const auto& c : cases) {
        // Good pairs before and after the bad one (other keys): none of them is written.
        const std::string badKey = c.pairs[0].substr(0, c.pairs[0].find('='));
        const auto good = [&badKey](const std::string& pair) {
            return pair.substr(0, pair.find('=')) == badKey ? std::vector<std::string>{}
                                                             : std::vector<std::string>{pair};
        };
        std::vector<std::string> args = {"gateway", "set", "term1"};
        for (const auto& pair : {"capacity=77", "site=ber"}) {
            const auto keep = good(pair);
            args.insert(args.end(), keep.begin(), keep.end());
        }
        args.insert(args.end(), c.pairs.begin(), c.pairs.end());
        const auto last = good("options-ping=15");
        args.insert(args.end(), last.begin(), last.end());
        const auto r = run(args);
        EXPECT_EQ(r.exitCode, 2) << c.pairs[0] << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("swctl: " + c.message)) << r.err;
        EXPECT_EQ(r.out, "");
    }
    const auto unknown = run({"gateway", "set", "nope", "cps=1"});
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_THAT(unknown.err, HasSubstr("swctl: NAME: \"nope\" is not allowed; expected the name "
                                       "of an existing gateway"));
    EXPECT_EQ(run({"gateway", "set", "bad name", "cps=1"}).exitCode, 2);
    EXPECT_EQ(run({"gateway", "set", "term1"}).exitCode, 2);  // no KEY=VALUE
    EXPECT_EQ(state(), before);
    EXPECT_EQ(audit(), auditBefore);
    // Validation comes before the database: a bad value is exit 2 even when it is down.
    EXPECT_EQ(swctl(kUnreachableDsn, {"gateway", "set", "term1", "cps=x"}).exitCode, 2);
    EXPECT_EQ(swctl(kUnreachableDsn, {"gateway", "set", "term1", "cps=1"}).exitCode, 1);
}

TEST_F(SwctlGateway, DisableAndEnableFlipTheFlagAndAreAudited)
{
    auto r = run({"gateway", "disable", "term1"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, "gateway term1 disabled\n");
    EXPECT_EQ(gateway("term1").at("enabled"), false);
    EXPECT_THAT(run({"gateway", "list"}).out, ::testing::ContainsRegex("term1 .* no "));
    const auto before = audit();
    EXPECT_EQ(run({"gateway", "disable", "term1"}).exitCode, 0);  // already: nothing written
    EXPECT_EQ(audit(), before);
    EXPECT_EQ(runJson({"gateway", "enable", "term1"}),
              (json{{"name", "term1"}, {"enabled", true}}));
    EXPECT_EQ(gateway("term1").at("enabled"), true);

    const auto rows = runJson({"audit", "--name", "term1", "--limit", "2"});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at("action"), "enable");
    EXPECT_EQ(rows[0].at("field"), "enabled");
    EXPECT_EQ(rows[0].at("old_value"), "false");
    EXPECT_EQ(rows[0].at("new_value"), "true");
    EXPECT_EQ(rows[1].at("action"), "disable");

    const auto stateBefore = state();
    for (const std::string command : {"enable", "disable"}) {
        const auto unknown = run({"gateway", command, "nope"});
        EXPECT_EQ(unknown.exitCode, 2);
        EXPECT_THAT(unknown.err, HasSubstr("swctl: NAME: \"nope\" is not allowed"));
        EXPECT_EQ(run({"gateway", command}).exitCode, 2);
    }
    EXPECT_EQ(state(), stateBefore);
}

TEST_F(SwctlGateway, AuditListsEveryChangeWithItsActorInTableJsonAndCsv)
{
    ASSERT_EQ(run({"param", "set", "SS_SIP_TIMEOUT_INVITE", "8"}).exitCode, 0);
    ASSERT_EQ(run({"param", "reset", "SS_SIP_TIMEOUT_INVITE"}).exitCode, 0);
    const auto routeId = std::to_string(runJson({"route", "list"})[0].at("id").get<long>());
    ASSERT_EQ(run({"route", "remove", routeId}).exitCode, 0);
    ASSERT_EQ(run({"gateway", "remove", "term1"}).exitCode, 0);

    const auto rows = runJson({"audit"});
    std::vector<std::string> summary;
    for (const auto& row : rows) {
        EXPECT_THAT(row.at("actor").get<std::string>(), HasSubstr(osUser()));
        summary.push_back(row.at("action").get<std::string>() + " " +
                          row.at("object_kind").get<std::string>() + " " +
                          row.at("object_name").get<std::string>());
    }
    EXPECT_EQ(summary, (std::vector<std::string>{
                           "remove gateway term1", "remove route " + routeId,
                           "reset param SS_SIP_TIMEOUT_INVITE", "set param SS_SIP_TIMEOUT_INVITE",
                           "add route " + routeId, "add gateway term1"}));
    EXPECT_EQ(rows[3].at("old_value"), nullptr);
    EXPECT_EQ(rows[3].at("new_value"), "8");
    EXPECT_EQ(rows[0].at("field"), nullptr);
    EXPECT_EQ(json::parse(rows[0].at("old_value").get<std::string>()).at("host"), "10.0.1.1");

    EXPECT_EQ(runJson({"audit", "--kind", "param"}).size(), 2u);
    EXPECT_EQ(runJson({"audit", "--limit", "1"}).size(), 1u);
    EXPECT_EQ(runJson({"audit", "--since", "-1h"}).size(), 6u);
    EXPECT_EQ(runJson({"audit", "--since", "now"}).size(), 0u);

    const auto table = run({"audit"});
    ASSERT_EQ(table.exitCode, 0) << table.err;
    EXPECT_THAT(table.out, ::testing::StartsWith("ID  AT  "));
    EXPECT_THAT(table.out, ::testing::ContainsRegex("reset +param +SS_SIP_TIMEOUT_INVITE +value "
                                                    "+8 +-\n"));
    const auto csv = run({"audit", "--format", "csv"});
    ASSERT_EQ(csv.exitCode, 0) << csv.err;
    EXPECT_THAT(csv.out, ::testing::StartsWith(
                             "id,at,actor,action,object_kind,object_name,field,old_value,"
                             "new_value\r\n"));
    EXPECT_THAT(csv.out, HasSubstr(",reset,param,SS_SIP_TIMEOUT_INVITE,value,8,\r\n"));

    using Case = std::pair<std::vector<std::string>, std::string>;
    for (const auto& [args, message] : std::vector<Case>{
             {{"audit", "--kind", "cdr"}, "--kind: \"cdr\" is not allowed; expected gateway, "
                                          "route or param"},
             {{"audit", "--limit", "0"}, "--limit: \"0\""},
             {{"audit", "--since", "yesterday"}, "--since: \"yesterday\""},
             {{"audit", "--format", "xml"}, "--format: \"xml\""},
             {{"audit", "--name", "a b"}, "--name: \"a b\""}}) {
        const auto r = run(args);
        EXPECT_EQ(r.exitCode, 2) << args[1];
        EXPECT_THAT(r.err, HasSubstr("swctl: " + message));
    }
}

}  // namespace
}  // namespace ss::pgtest
