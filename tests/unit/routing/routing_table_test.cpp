// SPDX-License-Identifier: Apache-2.0
#include "routing/routing_table.h"

#include <gtest/gtest.h>

using ss::common::GatewayConfig;
using ss::common::GatewayRole;
using ss::common::Provisioning;
using ss::common::RouteConfig;
using ss::routing::RoutingTable;

namespace {

GatewayConfig gateway(const std::string& name, GatewayRole role, const std::string& host,
                      std::uint16_t port = 5060, bool enabled = true)
{
    GatewayConfig gw;
    gw.name = name;
    gw.role = role;
    gw.host = host;
    gw.port = port;
    gw.enabled = enabled;
    return gw;
}

RouteConfig route(const std::string& prefix, const std::string& gw, int priority = 100)
{
    RouteConfig r;
    r.prefix = prefix;
    r.gateway = gw;
    r.priority = priority;
    return r;
}

std::vector<std::string> names(const std::vector<ss::routing::Candidate>& cands)
{
    std::vector<std::string> out;
    for (const auto& c : cands) {
        out.push_back(c.gateway->name);
    }
    return out;
}

}  // namespace

TEST(RoutingTable, LongestPrefixWinsAndPriorityOrdersGateways)
{
    Provisioning p;
    p.gateways = {gateway("a", GatewayRole::Termination, "10.0.0.1"),
                  gateway("b", GatewayRole::Termination, "10.0.0.2"),
                  gateway("c", GatewayRole::Termination, "10.0.0.3")};
    p.routes = {route("1", "a"), route("1555", "c", 20), route("1555", "b", 10)};
    auto table = RoutingTable::build(p);

    EXPECT_EQ(names(table->candidates("15551234")), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(names(table->candidates("1666")), (std::vector<std::string>{"a"}));
    EXPECT_TRUE(table->candidates("44").empty());
}

TEST(RoutingTable, EmptyPrefixIsTheDefaultRoute)
{
    Provisioning p;
    p.gateways = {gateway("any", GatewayRole::Termination, "10.0.0.9")};
    p.routes = {route("", "any")};
    auto table = RoutingTable::build(p);
    EXPECT_EQ(names(table->candidates("999")), (std::vector<std::string>{"any"}));
}

TEST(RoutingTable, DisabledGatewaysAreSkippedAndDoNotHideShorterPrefixes)
{
    Provisioning p;
    p.gateways = {gateway("off", GatewayRole::Termination, "10.0.0.1", 5060, false),
                  gateway("on", GatewayRole::Termination, "10.0.0.2")};
    p.routes = {route("44", "off"), route("4", "on")};
    auto table = RoutingTable::build(p);
    EXPECT_EQ(names(table->candidates("4420")), (std::vector<std::string>{"on"}));
}

TEST(RoutingTable, OriginationMatchesSourceIpAndOptionalPort)
{
    Provisioning p;
    p.gateways = {gateway("anyport", GatewayRole::Origination, "192.0.2.1", 0),
                  gateway("fixed", GatewayRole::Origination, "192.0.2.2", 5070),
                  gateway("term", GatewayRole::Termination, "192.0.2.3"),
                  gateway("off", GatewayRole::Origination, "192.0.2.4", 0, false)};
    auto table = RoutingTable::build(p);
    ASSERT_NE(table->originationFor("192.0.2.1", 40000), nullptr);
    EXPECT_EQ(table->originationFor("192.0.2.1", 40000)->name, "anyport");
    EXPECT_NE(table->originationFor("192.0.2.2", 5070), nullptr);
    EXPECT_EQ(table->originationFor("192.0.2.2", 5071), nullptr);
    EXPECT_EQ(table->originationFor("192.0.2.3", 5060), nullptr);  // termination only
    EXPECT_EQ(table->originationFor("192.0.2.4", 5060), nullptr);  // disabled
}

TEST(RoutingTable, TranslationStripsThenAdds)
{
    auto gw = gateway("t", GatewayRole::Termination, "10.0.0.1");
    gw.prefixStrip = 2;
    gw.prefixAdd = "0044";
    EXPECT_EQ(ss::routing::translateNumber(gw, "4420712345"), "004420712345");
    gw.prefixStrip = 20;  // more than the number: nothing left but the added prefix
    EXPECT_EQ(ss::routing::translateNumber(gw, "123"), "0044");
}
