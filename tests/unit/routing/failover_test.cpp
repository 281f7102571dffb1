// SPDX-License-Identifier: Apache-2.0
#include "routing/failover.h"

#include <gtest/gtest.h>

using ss::routing::AttemptResult;
using ss::routing::codeInList;
using ss::routing::shouldFailover;

TEST(Failover, DefaultListIs408And480AndEvery5xx)
{
    ss::common::GatewayConfig gw;
    EXPECT_TRUE(shouldFailover({408, false, false}, gw));
    EXPECT_TRUE(shouldFailover({480, false, false}, gw));
    EXPECT_TRUE(shouldFailover({503, false, false}, gw));
    EXPECT_TRUE(shouldFailover({599, false, false}, gw));
    EXPECT_FALSE(shouldFailover({486, false, false}, gw));
    EXPECT_FALSE(shouldFailover({404, false, false}, gw));
    EXPECT_FALSE(shouldFailover({603, false, false}, gw));
}

TEST(Failover, StackGeneratedFailuresAlwaysFailOver)
{
    ss::common::GatewayConfig gw;
    gw.options["failover-codes"] = "486";
    EXPECT_TRUE(shouldFailover({408, true, false}, gw));  // timeout
    EXPECT_TRUE(shouldFailover({503, true, false}, gw));  // transport error
}

TEST(Failover, SdpFromTheGatewayStopsTheHuntUnlessDisabled)
{
    ss::common::GatewayConfig gw;
    EXPECT_FALSE(shouldFailover({503, false, true}, gw));
    gw.options["stop-after-sdp"] = "off";
    EXPECT_TRUE(shouldFailover({503, false, true}, gw));
}

TEST(Failover, CodeListsAcceptClassesAndSpaces)
{
    EXPECT_TRUE(codeInList(502, "408, 5xx"));
    EXPECT_TRUE(codeInList(486, "486,600"));
    EXPECT_FALSE(codeInList(487, "486,600"));
    EXPECT_FALSE(codeInList(503, "50"));
    EXPECT_FALSE(codeInList(503, ""));
}

TEST(Failover, RetryDestinationIsAnIpWithAnOptionalPortDefaulting5060)
{
    using ss::routing::parseRetryDestination;
    using Dest = std::pair<std::string, std::uint16_t>;
    EXPECT_EQ(parseRetryDestination("192.0.2.7:8008"), Dest("192.0.2.7", 8008));
    EXPECT_EQ(parseRetryDestination("192.0.2.7"), Dest("192.0.2.7", 5060));
    EXPECT_EQ(parseRetryDestination("[2001:db8::7]:5070"), Dest("2001:db8::7", 5070));
    EXPECT_EQ(parseRetryDestination("2001:db8::7"), Dest("2001:db8::7", 5060));
    // Seed 000: an invalid port means the default port ...
    EXPECT_EQ(parseRetryDestination("192.0.2.7:99999"), Dest("192.0.2.7", 5060));
    EXPECT_EQ(parseRetryDestination("192.0.2.7:x"), Dest("192.0.2.7", 5060));
    // ... and a missing or invalid address means no retry at all.
    EXPECT_FALSE(parseRetryDestination(""));
    EXPECT_FALSE(parseRetryDestination("gw.example.com:5060"));
    EXPECT_FALSE(parseRetryDestination("192.0.2.300"));
    EXPECT_FALSE(parseRetryDestination("[2001:db8::7"));
}
