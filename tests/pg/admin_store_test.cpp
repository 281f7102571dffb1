// SPDX-License-Identifier: Apache-2.0
#include "cdr/admin_store.h"
#include "cdr/errors.h"
#include "cdr/store.h"
#include "cdr/time_format.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>

#include <filesystem>

namespace ss::pgtest {
namespace {

using ::testing::HasSubstr;

common::GatewayConfig termination(const std::string& name)
{
    common::GatewayConfig gw;
    gw.name = name;
    gw.role = common::GatewayRole::Termination;
    gw.host = "10.0.1.1";
    return gw;
}

class AdminStore : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            migrateSchema();
            store_.emplace(dsn_);
        }
    }
    cdr::AdminStore& store() { return *store_; }
    std::optional<cdr::AdminStore> store_;
};

// The message of the ValidationError `f` throws; fails the test if it throws nothing else.
template <class F>
std::string validationMessage(F&& f)
{
    try {
        f();
    } catch (const cdr::ValidationError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ValidationError";
    return "";
}

TEST_F(AdminStore, AddsFindsListsAndRemovesGateways)
{
    auto gw = termination("term1");
    gw.options = {{"enable-100rel", "on"}};
    const auto stored = store().addGateway(gw);
    EXPECT_GT(stored.id, 0);
    EXPECT_EQ(stored.name, "term1");
    EXPECT_EQ(stored.options, gw.options);
    store().addGateway(termination("a-first"));

    const auto list = store().listGateways();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "a-first");
    EXPECT_EQ(list[1].name, "term1");
    ASSERT_TRUE(store().findGateway("term1").has_value());
    EXPECT_EQ(store().findGateway("term1")->id, stored.id);
    EXPECT_FALSE(store().findGateway("nope").has_value());

    store().removeGateway("term1");
    EXPECT_FALSE(store().findGateway("term1").has_value());
    EXPECT_EQ(store().listGateways().size(), 1u);
}

TEST_F(AdminStore, ADuplicateGatewayNameIsRefusedAndChangesNothing)
{
    store().addGateway(termination("term1"));
    auto again = termination("term1");
    again.host = "10.9.9.9";
    EXPECT_THAT(validationMessage([&] { store().addGateway(again); }),
                HasSubstr("NAME: \"term1\" is not allowed"));
    ASSERT_EQ(store().listGateways().size(), 1u);
    EXPECT_EQ(store().listGateways()[0].host, "10.0.1.1");
}

TEST_F(AdminStore, AValueTheSchemaRefusesIsAValidationError)
{
    auto gw = termination("term1");
    gw.capacity = -1;
    EXPECT_THAT(validationMessage([&] { store().addGateway(gw); }), HasSubstr("term1"));
    EXPECT_TRUE(store().listGateways().empty());
}

TEST_F(AdminStore, RoutesNeedAnExistingTerminationGateway)
{
    store().addGateway(termination("term1"));
    auto orig = termination("orig1");
    orig.role = common::GatewayRole::Origination;
    store().addGateway(orig);

    EXPECT_THAT(validationMessage([&] { store().addRoute({0, "49", "nope", 100, 100, {}}); }),
                HasSubstr("--gateway: \"nope\" is not allowed"));
    EXPECT_THAT(validationMessage([&] { store().addRoute({0, "49", "orig1", 100, 100, {}}); }),
                HasSubstr("termination"));
    EXPECT_TRUE(store().listRoutes().empty());

    const auto route = store().addRoute({0, "49", "term1", 5, 7, {}});
    EXPECT_GT(route.id, 0);
    EXPECT_THAT(validationMessage([&] { store().addRoute({0, "49", "term1", 1, 1, {}}); }),
                HasSubstr("--prefix: \"49\""));
    const auto routes = store().listRoutes();
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0].id, route.id);
    EXPECT_EQ(routes[0].gateway, "term1");
    EXPECT_EQ(routes[0].priority, 5);
    EXPECT_EQ(routes[0].weight, 7);
}

TEST_F(AdminStore, AGatewayThatRoutesUseCannotBeRemoved)
{
    store().addGateway(termination("term1"));
    const auto route = store().addRoute({0, "49", "term1", 100, 100, {}});
    EXPECT_THAT(validationMessage([&] { store().removeGateway("term1"); }),
                HasSubstr("1 route(s) still use it"));
    EXPECT_TRUE(store().findGateway("term1").has_value());

    store().removeRoute(route.id);
    EXPECT_TRUE(store().listRoutes().empty());
    store().removeGateway("term1");
    EXPECT_TRUE(store().listGateways().empty());
}

TEST_F(AdminStore, RemovingWhatDoesNotExistIsAValidationError)
{
    EXPECT_THAT(validationMessage([&] { store().removeGateway("nope"); }),
                HasSubstr("NAME: \"nope\""));
    EXPECT_THAT(validationMessage([&] { store().removeRoute(12345); }),
                HasSubstr("ID: \"12345\""));
}

// The audit trail as "actor|action|kind|name|field|old|new" lines, oldest first (NULL: ~).
std::vector<std::string> auditLines(cdr::AdminStore& store)
{
    cdr::AuditQuery q;
    q.limit = 1000;
    auto rows = store.listAudit(q);
    std::reverse(rows.begin(), rows.end());
    std::vector<std::string> out;
    const auto text = [](const std::optional<std::string>& v) { return v ? *v : "~"; };
    for (const auto& a : rows) {
        out.push_back(a.actor + "|" + a.action + "|" + a.objectKind + "|" + a.objectName + "|" +
                      text(a.field) + "|" + text(a.oldValue) + "|" + text(a.newValue));
    }
    return out;
}

TEST_F(AdminStore, SetGatewayChangesSeveralFieldsAtOnceAndAuditsEachOldAndNewValue)
{
    auto gw = termination("term1");
    gw.port = 5070;
    gw.options = {{"failover-codes", "408,5xx"}, {"enable-100rel", "on"}};
    store().addGateway(gw);
    store().setActor("swctl:alice");

    cdr::GatewayChanges c;
    c.host = "10.0.1.9";  // no port: the termination default, as `gateway add`
    c.capacity = 30;
    c.cps = 0;  // unchanged: no audit row
    c.site = "fra";
    c.transport = common::Transport::Tcp;
    c.prefixStrip = 2;
    c.prefixAdd = "0049";
    c.options["failover-codes"] = std::nullopt;  // removed
    c.options["options-ping"] = "30";             // added
    c.options["enable-100rel"] = "off";           // changed
    const auto stored = store().setGateway("term1", c);
    EXPECT_EQ(stored.host, "10.0.1.9");
    EXPECT_EQ(stored.port, 5060);
    EXPECT_EQ(stored.capacity, 30);
    EXPECT_EQ(stored.site, "fra");
    EXPECT_EQ(stored.transport, common::Transport::Tcp);
    EXPECT_EQ(stored.prefixStrip, 2);
    EXPECT_EQ(stored.prefixAdd, "0049");
    EXPECT_EQ(stored.options, (std::map<std::string, std::string>{{"enable-100rel", "off"},
                                                                  {"options-ping", "30"}}));
    const auto found = store().findGateway("term1");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->host, "10.0.1.9");
    EXPECT_EQ(found->options, stored.options);

    const auto lines = auditLines(store());
    ASSERT_EQ(lines.size(), 11u);
    EXPECT_THAT(lines[0], ::testing::StartsWith("unknown|add|gateway|term1|~|~|{"));
    EXPECT_EQ(std::vector<std::string>(lines.begin() + 1, lines.end()),
              (std::vector<std::string>{
                  "swctl:alice|set|gateway|term1|host|10.0.1.1|10.0.1.9",
                  "swctl:alice|set|gateway|term1|port|5070|5060",
                  "swctl:alice|set|gateway|term1|transport|udp|tcp",
                  "swctl:alice|set|gateway|term1|capacity|0|30",
                  "swctl:alice|set|gateway|term1|site||fra",
                  "swctl:alice|set|gateway|term1|prefix-strip|0|2",
                  "swctl:alice|set|gateway|term1|prefix-add||0049",
                  "swctl:alice|set|gateway|term1|enable-100rel|on|off",
                  "swctl:alice|set|gateway|term1|failover-codes|408,5xx|~",
                  "swctl:alice|set|gateway|term1|options-ping|~|30",
              }));
    // The rows of one change share one time.
    EXPECT_EQ(scalar("SELECT count(DISTINCT at) FROM audit WHERE action = 'set'"), "1");
}

TEST_F(AdminStore, SetGatewayOnAnOriginationGatewayDefaultsToAnyPortAndKeepsAGivenOne)
{
    auto orig = termination("orig1");
    orig.role = common::GatewayRole::Origination;
    orig.port = 5060;
    store().addGateway(orig);
    cdr::GatewayChanges c;
    c.host = "10.0.0.7";
    EXPECT_EQ(store().setGateway("orig1", c).port, 0);
    c.port = 5080;
    EXPECT_EQ(store().setGateway("orig1", c).port, 5080);
}

TEST_F(AdminStore, SetGatewayIsAllOrNothing)
{
    store().addGateway(termination("term1"));
    const auto before = scalar("SELECT row_to_json(g)::text FROM gateway g");
    const auto audits = scalar("SELECT count(*) FROM audit");
    // A value the schema refuses among good ones (swctl's validation would have caught it):
    // none of them is written, and no audit row.
    cdr::GatewayChanges c;
    c.capacity = 50;
    c.site = "fra";
    c.options["options-ping"] = "30";
    c.prefixStrip = 99;
    EXPECT_THAT(validationMessage([&] { store().setGateway("term1", c); }),
                HasSubstr("gateway term1 refused by the database"));
    EXPECT_EQ(scalar("SELECT row_to_json(g)::text FROM gateway g"), before);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit"), audits);
}

TEST_F(AdminStore, SetGatewayOfAnUnknownGatewayNamesItAndWritesNothing)
{
    cdr::GatewayChanges c;
    c.cps = 5;
    EXPECT_THAT(validationMessage([&] { store().setGateway("nope", c); }),
                HasSubstr("NAME: \"nope\" is not allowed; expected the name of an existing "
                          "gateway"));
    EXPECT_THAT(validationMessage([&] { store().setGatewayEnabled("nope", false); }),
                HasSubstr("NAME: \"nope\""));
    EXPECT_EQ(scalar("SELECT count(*) FROM audit"), "0");
}

TEST_F(AdminStore, SetGatewayWithoutAChangeWritesNothing)
{
    store().addGateway(termination("term1"));
    const auto updated = scalar("SELECT updated_at FROM gateway");
    cdr::GatewayChanges c;
    c.host = "10.0.1.1";
    c.capacity = 0;
    c.options["failover-codes"] = std::nullopt;  // not set: nothing to remove
    EXPECT_EQ(store().setGateway("term1", c).host, "10.0.1.1");
    EXPECT_EQ(store().setGateway("term1", {}).name, "term1");
    EXPECT_EQ(scalar("SELECT updated_at FROM gateway"), updated);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit WHERE action <> 'add'"), "0");
}

TEST_F(AdminStore, SetGatewayEnabledTogglesTheFlagAndAuditsOnlyRealChanges)
{
    store().addGateway(termination("term1"));
    store().setActor("web:ops");
    store().setGatewayEnabled("term1", false);
    EXPECT_FALSE(store().findGateway("term1")->enabled);
    store().setGatewayEnabled("term1", false);  // already disabled: nothing written
    store().setGatewayEnabled("term1", true);
    EXPECT_TRUE(store().findGateway("term1")->enabled);
    const auto lines = auditLines(store());
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[1], "web:ops|disable|gateway|term1|enabled|true|false");
    EXPECT_EQ(lines[2], "web:ops|enable|gateway|term1|enabled|false|true");
}

TEST_F(AdminStore, EveryChangeWritesAnAuditRowInItsTransaction)
{
    store().setActor("swctl:bob");
    store().addGateway(termination("term1"));
    const auto route = store().addRoute({0, "49", "term1", 5, 7, {"east", "west"}});
    store().setParam("SS_SIP_TIMEOUT_INVITE", "007");
    store().setParam("SS_SIP_TIMEOUT_INVITE", "7");  // the same: nothing written
    store().setParam("SS_SIP_TIMEOUT_INVITE", "8");
    store().resetParam("SS_SIP_TIMEOUT_INVITE");
    store().resetParam("SS_SIP_TIMEOUT_INVITE");  // nothing stored: nothing written
    store().removeRoute(route.id);
    store().removeGateway("term1");
    const std::string id = std::to_string(route.id);
    const std::string gatewayJson =
        R"({"capacity":0,"cps":0,"enabled":true,"host":"10.0.1.1","options":{},"port":5060,)"
        R"("prefix_add":"","prefix_strip":0,"role":"termination","site":"","transport":"udp"})";
    const std::string routeJson =
        R"({"gateway":"term1","prefix":"49","priority":5,"site_order":"east,west","weight":7})";
    EXPECT_EQ(auditLines(store()),
              (std::vector<std::string>{
                  "swctl:bob|add|gateway|term1|~|~|" + gatewayJson,
                  "swctl:bob|add|route|" + id + "|~|~|" + routeJson,
                  "swctl:bob|set|param|SS_SIP_TIMEOUT_INVITE|value|~|7",
                  "swctl:bob|set|param|SS_SIP_TIMEOUT_INVITE|value|7|8",
                  "swctl:bob|reset|param|SS_SIP_TIMEOUT_INVITE|value|8|~",
                  "swctl:bob|remove|route|" + id + "|~|" + routeJson + "|~",
                  "swctl:bob|remove|gateway|term1|~|" + gatewayJson + "|~",
              }));
    // Refused changes leave no row.
    validationMessage([&] { store().removeGateway("term1"); });
    validationMessage([&] { store().setParam("SS_SIP_TIMEOUT_INVITE", "0"); });
    validationMessage([&] { store().addRoute({0, "49", "nope", 1, 1, {}}); });
    EXPECT_EQ(auditLines(store()).size(), 7u);
}

TEST_F(AdminStore, AnEmptyActorIsUnknown)
{
    store().setActor("");
    EXPECT_EQ(store().actor(), "unknown");
    store().setParam("SS_SIP_TIMEOUT_INVITE", "9");
    EXPECT_EQ(scalar("SELECT actor FROM audit"), "unknown");
}

TEST_F(AdminStore, ListAuditFiltersByKindNameAndTimeNewestFirst)
{
    store().addGateway(termination("term1"));
    store().addGateway(termination("term2"));
    store().setParam("SS_SIP_TIMEOUT_INVITE", "9");
    sql("UPDATE audit SET at = '2026-01-01T00:00:00Z' WHERE object_name = 'term1'");

    cdr::AuditQuery q;
    auto rows = store().listAudit(q);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].objectName, "SS_SIP_TIMEOUT_INVITE");  // newest first
    EXPECT_EQ(rows[2].objectName, "term1");
    EXPECT_EQ(cdr::formatIsoMillis(rows[2].at), "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(rows[0].field, "value");
    EXPECT_FALSE(rows[0].oldValue.has_value());
    EXPECT_EQ(rows[0].newValue, "9");

    q.objectKind = "gateway";
    EXPECT_EQ(store().listAudit(q).size(), 2u);
    q.objectName = "term2";
    ASSERT_EQ(store().listAudit(q).size(), 1u);
    q = {};
    q.since = *cdr::parseTimeSpec("2026-01-02", {});
    EXPECT_EQ(store().listAudit(q).size(), 2u);
    q = {};
    q.limit = 1;
    ASSERT_EQ(store().listAudit(q).size(), 1u);
    EXPECT_EQ(store().listAudit(q)[0].objectKind, "param");
}

TEST_F(AdminStore, GatewayChangesRaiseTheProvisioningNotify)
{
    store().addGateway(termination("term1"));
    pqxx::connection listener(dsn_);
    pqxx::nontransaction(listener).exec(std::string("LISTEN ") + cdr::kProvisioningChannel);
    const auto notified = [&listener] {
        // The NOTIFY is sent at commit, before setGateway*() returns: it is waiting already.
        const int count = listener.await_notification(5, 0);
        listener.get_notifs();
        return count > 0;
    };
    cdr::GatewayChanges c;
    c.cps = 10;
    store().setGateway("term1", c);
    EXPECT_TRUE(notified());
    store().setGatewayEnabled("term1", false);
    EXPECT_TRUE(notified());
}

using AdminStoreMigration = PgTest;  // a fresh database, not migrated

// A database made by schema 3 keeps its data through 4 and 5, and gains an empty audit trail.
TEST_F(AdminStoreMigration, AVersionThreeDatabaseKeepsItsProvisioningAndGainsTheAudit)
{
    namespace fs = std::filesystem;
    std::string dir = ::testing::TempDir() + "ss_schema_XXXXXX";
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    for (const auto& entry : fs::directory_iterator(SS_SCHEMA_DIR)) {
        const auto file = entry.path().filename().string();
        if (file.ends_with(".sql") && std::stoi(file.substr(0, 4)) <= 3) {
            fs::copy(entry.path(), fs::path(dir) / file);
        }
    }
    ASSERT_EQ(cdr::migrate(dsn_, dir), 3);
    fs::remove_all(dir);
    sql("INSERT INTO gateway (name, role, host, capacity) VALUES ('term1', 'termination', "
        "'10.0.1.1', 30)");
    sql("INSERT INTO route (prefix, gateway_id) SELECT '49', id FROM gateway");
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_TIMEOUT_INVITE', '7')");

    ASSERT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_GE(cdr::expectedSchemaVersion(), 5);
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 5"), "0005_audit.sql");
    cdr::AdminStore migrated(dsn_);
    const auto gateways = migrated.listGateways();
    ASSERT_EQ(gateways.size(), 1u);
    EXPECT_EQ(gateways[0].capacity, 30);
    ASSERT_EQ(migrated.listRoutes().size(), 1u);
    EXPECT_EQ(migrated.storedParams().at("SS_SIP_TIMEOUT_INVITE"), "7");
    EXPECT_TRUE(migrated.listAudit({}).empty());
    migrated.setGatewayEnabled("term1", false);
    EXPECT_EQ(migrated.listAudit({}).size(), 1u);
}

TEST_F(AdminStore, RefusesAnUnmigratedDatabase)
{
    sql("DROP TABLE schema_version");
    EXPECT_THROW(cdr::AdminStore{dsn_}, ConfigError);
}

TEST(AdminStoreOffline, UnreachableDatabaseIsDbUnavailable)
{
    EXPECT_THROW(cdr::AdminStore{kUnreachableDsn}, cdr::DbUnavailable);
}

}  // namespace
}  // namespace ss::pgtest
