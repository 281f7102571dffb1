// SPDX-License-Identifier: Apache-2.0
// Route selection, gateway health and limits in virtual time (issue 4 §1, §3, §4, §7).
#include "routing/gateway_load.h"
#include "routing/selection.h"

#include <gtest/gtest.h>

#include <map>

using namespace std::chrono_literals;
using ss::common::GatewayConfig;
using ss::common::GatewayRole;
using ss::common::MonoTime;
using ss::common::Provisioning;
using ss::common::RouteConfig;
using ss::routing::Admission;
using ss::routing::GatewayAvailability;
using ss::routing::GatewayHealth;
using ss::routing::GatewayLoad;
using ss::routing::HealthState;
using ss::routing::RoutingTable;
using ss::routing::Target;

namespace {

const MonoTime kT0 = MonoTime{} + 1000h;

GatewayConfig term(const std::string& name, const std::string& host, const std::string& site = {})
{
    GatewayConfig gw;
    gw.name = name;
    gw.role = GatewayRole::Termination;
    gw.host = host;
    gw.site = site;
    return gw;
}

RouteConfig route(const std::string& gw, int priority, int weight = 100,
                  std::vector<std::string> sites = {})
{
    RouteConfig r;
    r.prefix = "1";
    r.gateway = gw;
    r.priority = priority;
    r.weight = weight;
    r.siteOrder = std::move(sites);
    return r;
}

/// Names resolve from this map; IP literals resolve to themselves.
std::vector<std::string> fakeResolve(const std::string& host)
{
    static const std::map<std::string, std::vector<std::string>> kZone = {
        {"pool.example", {"10.0.1.1", "10.0.1.2", "10.0.1.3"}},
        {"nowhere.example", {}},
    };
    auto it = kZone.find(host);
    return it == kZone.end() ? std::vector<std::string>{host} : it->second;
}

struct Fixture {
    explicit Fixture(Provisioning p) : table(RoutingTable::build(std::move(p), fakeResolve)) {}

    std::vector<std::string> plan(MonoTime now = kT0)
    {
        std::vector<std::string> out;
        for (const auto& t : ss::routing::planAttempts(*table, table->candidates("1555"), health,
                                                       availability, now, random)) {
            out.push_back(t.gateway->name + "@" + t.address());
        }
        return out;
    }

    std::shared_ptr<const RoutingTable> table;
    GatewayHealth health;
    GatewayAvailability availability;
    std::mt19937_64 random{42};
};

using Names = std::vector<std::string>;

}  // namespace

TEST(Selection, AscendingPriorityThenEveryAddressOfAGateway)
{
    Provisioning p;
    p.gateways = {term("a", "10.0.0.1"), term("pool", "pool.example"), term("c", "10.0.0.3")};
    p.gateways[1].port = 5080;
    p.routes = {route("c", 30), route("a", 10), route("pool", 20)};
    Fixture f(p);
    EXPECT_EQ(f.plan(), (Names{"a@10.0.0.1:5060", "pool@10.0.1.1:5080", "pool@10.0.1.2:5080",
                               "pool@10.0.1.3:5080", "c@10.0.0.3:5060"}));
}

TEST(Selection, AGatewayWhoseNameDoesNotResolveHasNoTargets)
{
    Provisioning p;
    p.gateways = {term("lost", "nowhere.example"), term("b", "10.0.0.2")};
    p.routes = {route("lost", 10), route("b", 20)};
    Fixture f(p);
    EXPECT_EQ(f.plan(), (Names{"b@10.0.0.2:5060"}));
}

TEST(Selection, IPv6AddressesAreBracketed)
{
    Target t{nullptr, "2001:db8::1", 5060};
    EXPECT_EQ(t.address(), "[2001:db8::1]:5060");
}

TEST(Selection, WeightsShareFirstPlaceInProportionAmongEqualPriority)
{
    Provisioning p;
    p.gateways = {term("heavy", "10.0.0.1"), term("light", "10.0.0.2"), term("mid", "10.0.0.3"),
                  term("backup", "10.0.0.9")};
    p.routes = {route("heavy", 10, 60), route("light", 10, 10), route("mid", 10, 30),
                route("backup", 20, 1000)};
    Fixture f(p);
    std::map<std::string, int> first;
    constexpr int kDraws = 20000;
    for (int i = 0; i < kDraws; ++i) {
        const auto plan = f.plan();
        ASSERT_EQ(plan.size(), 4u);
        ++first[plan.front()];
        // A heavier weight never lifts a gateway above a better priority.
        EXPECT_EQ(plan.back(), "backup@10.0.0.9:5060");
    }
    // Expected shares 60 % / 30 % / 10 %; ±2 points is > 5 standard deviations at 20 000 draws.
    EXPECT_NEAR(first["heavy@10.0.0.1:5060"] / double(kDraws), 0.60, 0.02);
    EXPECT_NEAR(first["mid@10.0.0.3:5060"] / double(kDraws), 0.30, 0.02);
    EXPECT_NEAR(first["light@10.0.0.2:5060"] / double(kDraws), 0.10, 0.02);
}

TEST(Selection, SiteOrderComesBeforePriorityAndUnlistedSitesComeLast)
{
    Provisioning p;
    p.gateways = {term("w1", "10.0.0.1", "west"), term("e1", "10.0.0.2", "east"),
                  term("e2", "10.0.0.3", "east"), term("x", "10.0.0.4", "lab")};
    p.routes = {route("w1", 1, 100, {"east", "west"}), route("x", 0), route("e2", 20),
                route("e1", 10)};
    Fixture f(p);
    EXPECT_EQ(f.plan(), (Names{"e1@10.0.0.2:5060", "e2@10.0.0.3:5060", "w1@10.0.0.1:5060",
                               "x@10.0.0.4:5060"}));
}

TEST(Selection, ASiteWithNothingUsableIsSkippedWhole)
{
    Provisioning p;
    p.gateways = {term("e1", "10.0.0.1", "east"), term("e2", "10.0.0.2", "east"),
                  term("w1", "10.0.0.3", "west")};
    p.routes = {route("e1", 10, 100, {"east", "west"}), route("e2", 20), route("w1", 10)};
    Fixture f(p);
    for (int i = 0; i < GatewayHealth::kProbeDownAfter; ++i) {
        f.health.probed("10.0.0.1:5060", false, "timeout");
    }
    f.availability.withdrawn("e2", kT0);
    EXPECT_EQ(f.plan(), (Names{"w1@10.0.0.3:5060"}));
}

TEST(Selection, ABlacklistedAddressGoesAfterEveryHealthyOne)
{
    Provisioning p;
    p.gateways = {term("pool", "pool.example"), term("b", "10.0.0.2")};
    p.routes = {route("pool", 10), route("b", 20)};
    Fixture f(p);
    f.health.noAnswer("10.0.1.1:5060", kT0, 600s, "resend_exhausted");
    EXPECT_EQ(f.plan(kT0 + 1s), (Names{"pool@10.0.1.2:5060", "pool@10.0.1.3:5060",
                                       "b@10.0.0.2:5060", "pool@10.0.1.1:5060"}));
    // After the blacklist time the address is fully cleared (seed 001).
    EXPECT_EQ(f.plan(kT0 + 600s).front(), "pool@10.0.1.1:5060");
}

TEST(Selection, WhenNoneIsPenaltyFreeTheLeastRecentlyBlacklistedComesFirst)
{
    Provisioning p;
    p.gateways = {term("a", "10.0.0.1"), term("b", "10.0.0.2"), term("c", "10.0.0.3")};
    p.routes = {route("a", 10), route("b", 20), route("c", 30)};
    Fixture f(p);
    f.health.noAnswer("10.0.0.2:5060", kT0, 600s, "timeout_invite");
    f.health.noAnswer("10.0.0.3:5060", kT0 + 5s, 600s, "timeout_invite");
    f.health.noAnswer("10.0.0.1:5060", kT0 + 9s, 600s, "transport_error");
    EXPECT_EQ(f.plan(kT0 + 10s), (Names{"b@10.0.0.2:5060", "c@10.0.0.3:5060", "a@10.0.0.1:5060"}));
}

TEST(Selection, ProbedDownAddressesAreNotTriedAtAll)
{
    Provisioning p;
    p.gateways = {term("a", "10.0.0.1"), term("b", "10.0.0.2")};
    p.routes = {route("a", 10), route("b", 20)};
    Fixture f(p);
    for (int i = 0; i < GatewayHealth::kProbeDownAfter; ++i) {
        f.health.probed("10.0.0.1:5060", false, "408");
    }
    EXPECT_EQ(f.plan(), (Names{"b@10.0.0.2:5060"}));
}

TEST(GatewayHealth, PenaltyDecaysLinearlyOverTheBlacklistTime)
{
    GatewayHealth h;
    const std::string addr = "10.0.0.1:5060";
    EXPECT_EQ(h.penalty(addr, kT0), 0.0);
    h.noAnswer(addr, kT0, 600s, "timeout_invite");
    EXPECT_DOUBLE_EQ(h.penalty(addr, kT0), 1.0);
    EXPECT_DOUBLE_EQ(h.penalty(addr, kT0 + 150s), 0.75);
    EXPECT_DOUBLE_EQ(h.penalty(addr, kT0 + 300s), 0.5);
    EXPECT_EQ(h.state(addr, kT0 + 599s), HealthState::Blacklisted);
    EXPECT_EQ(h.penalty(addr, kT0 + 600s), 0.0);
    EXPECT_EQ(h.state(addr, kT0 + 600s), HealthState::Up);
    EXPECT_EQ(h.lastError(addr), "timeout_invite");
}

TEST(GatewayHealth, AnyAnswerClearsThePenalty)
{
    GatewayHealth h;
    h.noAnswer("a", kT0, 600s, "resend_exhausted");
    h.answered("a");
    EXPECT_EQ(h.penalty("a", kT0 + 1s), 0.0);
    EXPECT_FALSE(h.blacklistedAt("a", kT0 + 1s).has_value());
}

TEST(GatewayHealth, ZeroBlacklistTimeBlacklistsNothing)
{
    GatewayHealth h;
    h.noAnswer("a", kT0, 0s, "timeout_invite");
    EXPECT_EQ(h.state("a", kT0), HealthState::Up);
    EXPECT_EQ(h.lastError("a"), "timeout_invite");
}

TEST(GatewayHealth, ProbingGoesDownAfterConsecutiveFailuresAndUpAfterOneSuccess)
{
    GatewayHealth h;
    h.probed("a", false, "408");
    h.probed("a", false, "408");
    h.probed("a", true);  // a success in between restarts the count: hysteresis
    h.probed("a", false, "408");
    h.probed("a", false, "408");
    EXPECT_FALSE(h.probeDown("a"));
    h.probed("a", false, "503");
    EXPECT_TRUE(h.probeDown("a"));
    EXPECT_EQ(h.state("a", kT0), HealthState::ProbeDown);
    EXPECT_EQ(h.lastError("a"), "503");
    h.probed("a", true);
    EXPECT_EQ(h.state("a", kT0), HealthState::Up);
}

TEST(GatewayHealth, ASuccessfulProbeAlsoEndsABlacklisting)
{
    GatewayHealth h;
    h.noAnswer("a", kT0, 600s, "timeout_invite");
    h.probed("a", true);
    EXPECT_EQ(h.state("a", kT0 + 1s), HealthState::Up);
}

TEST(GatewayLoad, CapacityCountsConcurrentCalls)
{
    GatewayLoad load;
    GatewayConfig gw = term("a", "10.0.0.1");
    gw.capacity = 2;
    EXPECT_EQ(load.admit(gw, kT0), Admission::Admitted);
    EXPECT_EQ(load.admit(gw, kT0 + 5s), Admission::Admitted);
    EXPECT_EQ(load.admit(gw, kT0 + 10s), Admission::AtCapacity);
    EXPECT_EQ(load.active("a"), 2);
    load.release("a");
    EXPECT_EQ(load.admit(gw, kT0 + 10s), Admission::Admitted);
}

TEST(GatewayLoad, CpsIsASlidingOneSecondWindow)
{
    GatewayLoad load;
    GatewayConfig gw = term("a", "10.0.0.1");
    gw.cps = 3;
    EXPECT_EQ(load.admit(gw, kT0), Admission::Admitted);
    EXPECT_EQ(load.admit(gw, kT0 + 400ms), Admission::Admitted);
    EXPECT_EQ(load.admit(gw, kT0 + 800ms), Admission::Admitted);
    EXPECT_EQ(load.admit(gw, kT0 + 999ms), Admission::OverCps);
    EXPECT_EQ(load.callsLastSecond("a", kT0 + 999ms), 3);
    // The first admission leaves the window exactly one second later.
    EXPECT_EQ(load.admit(gw, kT0 + 1000ms), Admission::Admitted);
    EXPECT_EQ(load.admit(gw, kT0 + 1100ms), Admission::OverCps);
    // A refused call is not counted: it was never admitted.
    EXPECT_EQ(load.active("a"), 4);
}

TEST(GatewayLoad, NoLimitsAdmitEverything)
{
    GatewayLoad load;
    const GatewayConfig gw = term("a", "10.0.0.1");
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(load.admit(gw, kT0), Admission::Admitted);
    }
    EXPECT_EQ(load.active("a"), 1000);
    load.release("unknown");  // harmless
}
