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
