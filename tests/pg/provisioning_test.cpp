// SPDX-License-Identifier: Apache-2.0
#include "cdr/admin_store.h"
#include "cdr/errors.h"
#include "cdr/store.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>

namespace ss::pgtest {
namespace {

using ::testing::HasSubstr;

using LoadProvisioning = PgTest;

TEST_F(LoadProvisioning, RefusesAnUnmigratedDatabaseNamingBothVersions)
{
    try {
        cdr::loadProvisioning(dsn_);
        FAIL() << "loaded";
    } catch (const cdr::DbUnavailable&) {
        FAIL() << "reported as unreachable";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("version is 0"));
        EXPECT_THAT(e.what(), HasSubstr("needs " + std::to_string(cdr::expectedSchemaVersion())));
    }
}

TEST_F(LoadProvisioning, RefusesANewerSchema)
{
    migrateSchema();
    sql("INSERT INTO schema_version (version, name) VALUES (9001, '9001_future.sql')");
    try {
        cdr::loadProvisioning(dsn_);
        FAIL() << "loaded";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("9001"));
        EXPECT_THAT(e.what(), HasSubstr(std::to_string(cdr::expectedSchemaVersion())));
    }
}

TEST_F(LoadProvisioning, UnreachableDatabaseIsDbUnavailable)
{
    EXPECT_THROW(cdr::loadProvisioning(kUnreachableDsn), cdr::DbUnavailable);
}

TEST_F(LoadProvisioning, ReturnsGatewaysRoutesAndParams)
{
    migrateSchema();
    cdr::AdminStore store(dsn_);
    common::GatewayConfig term;
    term.name = "term1";
    term.role = common::GatewayRole::Termination;
    term.host = "10.0.1.1";
    term.port = 5070;
    term.transport = common::Transport::Tcp;
    term.capacity = 30;
    term.cps = 5;
    term.site = "fra";
    term.prefixStrip = 2;
    term.prefixAdd = "0049";
    term.options = {{"connerr-max-retries", "3"}, {"retrydest-on-conerr", "10.0.1.9"}};
    store.addGateway(term);
    common::GatewayConfig orig;
    orig.name = "orig1";
    orig.role = common::GatewayRole::Origination;
    orig.host = "10.0.0.1";
    orig.port = 0;
    orig.enabled = false;
    store.addGateway(orig);
    store.addRoute({0, "49", "term1", 10, 50, {}});
    store.addRoute({0, "", "term1", 100, 100, {}});
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_TIMEOUT_INVITE', '7')");

    const auto p = cdr::loadProvisioning(dsn_);
    ASSERT_EQ(p.gateways.size(), 2u);
    const auto& o = p.gateways[0];  // by name
    EXPECT_EQ(o.name, "orig1");
    EXPECT_EQ(o.role, common::GatewayRole::Origination);
    EXPECT_EQ(o.port, 0);
    EXPECT_FALSE(o.enabled);
    const auto& t = p.gateways[1];
    EXPECT_GT(t.id, 0);
    EXPECT_EQ(t.name, "term1");
    EXPECT_EQ(t.role, common::GatewayRole::Termination);
    EXPECT_EQ(t.host, "10.0.1.1");
    EXPECT_EQ(t.port, 5070);
    EXPECT_EQ(t.transport, common::Transport::Tcp);
    EXPECT_EQ(t.capacity, 30);
    EXPECT_EQ(t.cps, 5);
    EXPECT_EQ(t.site, "fra");
    EXPECT_EQ(t.prefixStrip, 2);
    EXPECT_EQ(t.prefixAdd, "0049");
    EXPECT_TRUE(t.enabled);
    EXPECT_EQ(t.options, term.options);

    ASSERT_EQ(p.routes.size(), 2u);
    EXPECT_EQ(p.routes[0].prefix, "");
    EXPECT_EQ(p.routes[1].prefix, "49");
    EXPECT_EQ(p.routes[1].gateway, "term1");
    EXPECT_EQ(p.routes[1].priority, 10);
    EXPECT_EQ(p.routes[1].weight, 50);
    EXPECT_EQ(p.params, (std::map<std::string, std::string>{{"SS_SIP_TIMEOUT_INVITE", "7"}}));
}

TEST_F(LoadProvisioning, RoutesCarryTheirSiteOrderThroughTheStore)
{
    migrateSchema();
    cdr::AdminStore store(dsn_);
    common::GatewayConfig gw;
    gw.name = "term1";
    gw.host = "10.0.1.1";
    store.addGateway(gw);
    gw.name = "term2";
    store.addGateway(gw);
    common::RouteConfig ordered{0, "49", "term1", 100, 100, {"east", "west.2", "north_1-a"}};
    const auto added = store.addRoute(ordered);
    EXPECT_EQ(added.siteOrder, ordered.siteOrder);
    store.addRoute({0, "49", "term2", 100, 100, {}});

    // Stored comma-joined; "" for none.
    EXPECT_EQ(scalar("SELECT string_agg(site_order, '|' ORDER BY id) FROM route"),
              "east,west.2,north_1-a|");
    const auto p = cdr::loadProvisioning(dsn_);
    ASSERT_EQ(p.routes.size(), 2u);
    EXPECT_EQ(p.routes[0].gateway, "term1");
    EXPECT_EQ(p.routes[0].siteOrder, (std::vector<std::string>{"east", "west.2", "north_1-a"}));
    EXPECT_EQ(p.routes[1].gateway, "term2");
    EXPECT_TRUE(p.routes[1].siteOrder.empty());
    const auto listed = store.listRoutes();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].siteOrder, p.routes[0].siteOrder);

    // One site, written by other means than the store.
    sql("UPDATE route SET site_order = 'west' WHERE gateway_id = "
        "(SELECT id FROM gateway WHERE name = 'term2')");
    EXPECT_EQ(cdr::loadProvisioning(dsn_).routes[1].siteOrder, (std::vector<std::string>{"west"}));
}

TEST_F(LoadProvisioning, TheStoreRefusesAnEmptyOrMalformedSiteName)
{
    migrateSchema();
    cdr::AdminStore store(dsn_);
    common::GatewayConfig gw;
    gw.name = "term1";
    gw.host = "10.0.1.1";
    store.addGateway(gw);
    EXPECT_THROW(store.addRoute({0, "49", "term1", 100, 100, {""}}), cdr::ValidationError);
    EXPECT_THROW(store.addRoute({0, "49", "term1", 100, 100, {"east", ""}}),
                 cdr::ValidationError);
    EXPECT_THROW(store.addRoute({0, "49", "term1", 100, 100, {"we st"}}), cdr::ValidationError);
    EXPECT_TRUE(store.listRoutes().empty());
}

TEST_F(LoadProvisioning, EveryProvisioningChangeIsNotified)
{
    migrateSchema();
    pqxx::connection listener(dsn_);
    struct Receiver : pqxx::notification_receiver {
        using pqxx::notification_receiver::notification_receiver;
        void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
        std::vector<std::string> payloads;
    } receiver(listener, cdr::kProvisioningChannel);
    listener.get_notifs();  // issues the LISTEN

    cdr::AdminStore store(dsn_);
    common::GatewayConfig gw;
    gw.name = "term1";
    gw.host = "10.0.1.1";
    store.addGateway(gw);
    store.addRoute({0, "49", "term1", 100, 100, {}});
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_SEND_RETRY', '3')");

    for (int i = 0; i < 50 && receiver.payloads.size() < 3; ++i) {
        listener.await_notification(0, 100000);
    }
    EXPECT_EQ(receiver.payloads, (std::vector<std::string>{"gateway", "route", "param"}));
}

}  // namespace
}  // namespace ss::pgtest
