// SPDX-License-Identifier: Apache-2.0
#include "switch/session_timer.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using namespace ss::sig;

namespace {

SessionTimerFields request(std::uint32_t se, const std::string& refresher, bool supports,
                           std::uint32_t minSe = 0)
{
    SessionTimerFields f;
    f.sessionExpires = se;
    f.refresher = refresher;
    f.supportsTimer = supports;
    f.minSe = minSe;
    return f;
}

}  // namespace

TEST(SessionTimer, UasRejectsAnIntervalBelowNinetySecondsWith422)
{
    const auto d = negotiateAsUas(request(60, "", true), 1800s);
    EXPECT_TRUE(d.reject422);
    EXPECT_EQ(d.answer.minSe, 90u);
}

TEST(SessionTimer, UasLowersTheIntervalToItsTtlButNotBelowTheCallersMinSe)
{
    auto d = negotiateAsUas(request(3600, "", true), 1800s);
    EXPECT_EQ(d.leg.interval, 1800s);
    d = negotiateAsUas(request(3600, "", true, 2000), 1800s);
    EXPECT_EQ(d.leg.interval, 2000s);
    d = negotiateAsUas(request(600, "", true), 1800s);
    EXPECT_EQ(d.leg.interval, 600s);
}

TEST(SessionTimer, UasHonoursTheCallersRefresherChoice)
{
    auto d = negotiateAsUas(request(1800, "uas", true), 1800s);
    EXPECT_TRUE(d.leg.weRefresh);
    EXPECT_EQ(d.answer.refresher, "uas");
    EXPECT_FALSE(d.answer.requiresTimer);
    d = negotiateAsUas(request(1800, "uac", true), 1800s);
    EXPECT_FALSE(d.leg.weRefresh);
    EXPECT_TRUE(d.answer.requiresTimer);  // §9: refresher=uac needs Require: timer
}

TEST(SessionTimer, UasLetsATimerCapableCallerRefreshAndRefreshesForOneThatIsNot)
{
    auto d = negotiateAsUas(request(0, "", true), 1800s);
    EXPECT_TRUE(d.leg.active);
    EXPECT_FALSE(d.leg.weRefresh);
    EXPECT_EQ(d.answer.sessionExpires, 1800u);
    d = negotiateAsUas(request(1800, "uac", false), 1800s);  // cannot refresh without support
    EXPECT_TRUE(d.leg.weRefresh);
    EXPECT_EQ(d.answer.refresher, "uas");
}

TEST(SessionTimer, UasLeavesACallerWithoutTimersAlone)
{
    const auto d = negotiateAsUas(request(0, "", false), 1800s);
    EXPECT_FALSE(d.leg.active);
    EXPECT_EQ(d.answer.sessionExpires, 0u);
}

TEST(SessionTimer, UacOffersItsTtlAndAfterA422TheDemandedMinimum)
{
    auto f = offerAsUac(1800s, 90s);
    EXPECT_EQ(f.sessionExpires, 1800u);
    EXPECT_EQ(f.minSe, 90u);
    EXPECT_TRUE(f.refresher.empty());
    f = offerAsUac(90s, 300s);  // the peer's 422 said Min-SE: 300
    EXPECT_EQ(f.sessionExpires, 300u);
    EXPECT_EQ(f.minSe, 300u);
}

TEST(SessionTimer, UacReadsTheRefresherFromTheAnswer)
{
    auto leg = acceptAsUac(request(900, "uac", false));
    EXPECT_TRUE(leg.active);
    EXPECT_TRUE(leg.weRefresh);
    EXPECT_EQ(leg.interval, 900s);
    leg = acceptAsUac(request(900, "uas", false));
    EXPECT_FALSE(leg.weRefresh);
    leg = acceptAsUac(request(0, "", false));
    EXPECT_FALSE(leg.active);
}

TEST(SessionTimer, RefreshAtOneMinusOneOverSegmentAndExpiryBeforeTheEnd)
{
    EXPECT_EQ(refreshDelay(90s, 2), 45s);
    EXPECT_EQ(refreshDelay(1800s, 4), 1350s);
    EXPECT_EQ(refreshDelay(1000s, 10), 900s);
    EXPECT_EQ(expiryDelay(90s), 60s);      // 90 − 90/3
    EXPECT_EQ(expiryDelay(1800s), 1768s);  // 1800 − 32
}
