// SPDX-License-Identifier: Apache-2.0
#include "common/config_error.h"
#include "switch/sofia/sofia_runtime.h"

#include <gtest/gtest.h>

using ss::sig::parseListenPoints;

TEST(ListenPoints, ParsesUdpAndTcpWithPorts)
{
    const auto points = parseListenPoints("udp:127.0.0.1:5060,tcp:0.0.0.0:0");
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].transport, ss::common::Transport::Udp);
    EXPECT_EQ(points[0].ip, "127.0.0.1");
    EXPECT_EQ(points[0].port, 5060);
    EXPECT_EQ(points[1].transport, ss::common::Transport::Tcp);
    EXPECT_EQ(points[1].port, 0);
}

TEST(ListenPoints, RejectsBadElementsNamingThem)
{
    for (const char* bad : {"", "udp:1.2.3.4", "tls:1.2.3.4:5061", "udp:1.2.3.4:70000",
                            "udp::5060", "udp:1.2.3.4:x"}) {
        try {
            parseListenPoints(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const ss::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("--sip"), std::string::npos) << e.what();
        }
    }
}
