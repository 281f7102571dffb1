// SPDX-License-Identifier: Apache-2.0
#include "common/params.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using ss::common::SwitchParams;
using ss::common::validateParam;

TEST(Params, DefaultsMatchTheSpec)
{
    const auto p = SwitchParams::fromStored({});
    ASSERT_EQ(p.resendIntervals.size(), 10u);
    EXPECT_EQ(p.resendIntervals[0], 500ms);
    EXPECT_EQ(p.resendIntervals[3], 4000ms);
    EXPECT_EQ(p.sendRetry, 10);
    EXPECT_EQ(p.timeoutInvite, 10s);
    EXPECT_EQ(p.timeoutTrying, 20s);
    EXPECT_EQ(p.timeoutRinging, 120s);
    EXPECT_EQ(p.sessionTtl, 1800s);
    EXPECT_EQ(p.sessionUpdateSegment, 4);
    EXPECT_EQ(p.earlyHangup, 0s);
    EXPECT_EQ(p.noTimerReinvite, 7200s);
    EXPECT_EQ(p.publishExpire, 3600s);
    EXPECT_FALSE(p.enable100rel);
    EXPECT_EQ(p.inviteRetryTimeout, 32s);  // 0 means 32
    EXPECT_EQ(p.blacklistTime, 600s);
    for (const auto& spec : ss::common::paramSpecs()) {
        EXPECT_FALSE(validateParam(spec.name, spec.defaultValue)) << spec.name;
    }
}

TEST(Params, ResendListAcceptsOneToTenTenthsOfASecondBetween01And60)
{
    EXPECT_FALSE(validateParam("SS_SIP_RESEND_INTERVAL", "1"));
    EXPECT_FALSE(validateParam("SS_SIP_RESEND_INTERVAL", "0.1,60,1,1,1,1,1,1,1,1"));
    EXPECT_FALSE(validateParam("SS_SIP_RESEND_INTERVAL", "0.5, 1, 2"));
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", ""));
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", "1,1,1,1,1,1,1,1,1,1,1"));  // 11
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", "0.05"));
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", "60.1"));
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", "1,,1"));
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", "1,"));
    EXPECT_TRUE(validateParam("SS_SIP_RESEND_INTERVAL", "a"));
    EXPECT_EQ(ss::common::normalizeParam("SS_SIP_RESEND_INTERVAL", "0.50, 1.0,2"), "0.5,1,2");
}

TEST(Params, ErrorsNameTheFieldTheValueAndWhatIsAllowed)
{
    const auto error = validateParam("SS_SIP_TIMEOUT_INVITE", "0");
    ASSERT_TRUE(error);
    EXPECT_NE(error->find("SS_SIP_TIMEOUT_INVITE"), std::string::npos);
    EXPECT_NE(error->find("\"0\""), std::string::npos);
    EXPECT_NE(error->find("1-300"), std::string::npos);
    EXPECT_TRUE(validateParam("SS_NO_SUCH_THING", "1"));
}

TEST(Params, ZeroMeansOffOnlyWhereTheSpecSaysSo)
{
    EXPECT_FALSE(validateParam("SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP", "0"));
    EXPECT_FALSE(validateParam("SS_SIP_NO_TIMER_REINVITE_INTERVAL", "0"));
    EXPECT_TRUE(validateParam("SS_SIP_NO_TIMER_REINVITE_INTERVAL", "59"));
    EXPECT_FALSE(validateParam("SS_GATEWAY_SWITCH_LIMIT", "0"));
    EXPECT_TRUE(validateParam("SS_GATEWAY_SWITCH_LIMIT", "21"));
    EXPECT_TRUE(validateParam("SS_SIP_SESSION_TTL", "0"));
    EXPECT_TRUE(validateParam("SS_SIP_SESSION_TTL", "89"));
    EXPECT_TRUE(validateParam("SS_SIP_ENABLE_100REL", "yes"));
}

TEST(Params, CdrRetentionIsZeroForeverOrUpToTenYearsOfDays)
{
    EXPECT_EQ(ss::common::SwitchParams::fromStored({}).cdrRetentionDays, 0);
    EXPECT_FALSE(validateParam("SS_CDR_RETENTION_DAYS", "0"));
    EXPECT_FALSE(validateParam("SS_CDR_RETENTION_DAYS", "3650"));
    EXPECT_TRUE(validateParam("SS_CDR_RETENTION_DAYS", "3651"));
    EXPECT_TRUE(validateParam("SS_CDR_RETENTION_DAYS", "-1"));
    EXPECT_EQ(ss::common::SwitchParams::fromStored({{"SS_CDR_RETENTION_DAYS", "90"}})
                  .cdrRetentionDays,
              90);
}

TEST(Params, SendRetryBelowTheListLengthShortensTheSchedule)
{
    auto p = SwitchParams::fromStored({{"SS_SIP_RESEND_INTERVAL", "1,1,1,1"},
                                       {"SS_SIP_SEND_RETRY", "2"}});
    EXPECT_EQ(p.resendSchedule(), (std::vector<std::chrono::milliseconds>{1000ms, 1000ms}));
    p.sendRetry = 0;
    EXPECT_TRUE(p.resendSchedule().empty());
}

TEST(Params, RefreshHappensAtOneMinusOneOverSegment)
{
    auto p = SwitchParams::fromStored({});
    for (int segment = 2; segment <= 10; ++segment) {
        p.sessionUpdateSegment = segment;
        EXPECT_EQ(p.refreshAfter(1000s), std::chrono::milliseconds(1000000 - 1000000 / segment))
            << segment;
    }
    p.sessionUpdateSegment = 2;
    EXPECT_EQ(p.refreshAfter(90s), 45000ms);
}

TEST(Params, InvalidStoredValuesFallBackToDefaultsAndAreReported)
{
    std::vector<std::string> errors;
    const auto p = SwitchParams::fromStored({{"SS_SIP_TIMEOUT_INVITE", "999"}}, &errors);
    EXPECT_EQ(p.timeoutInvite, 10s);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("SS_SIP_TIMEOUT_INVITE"), std::string::npos);
}

TEST(Params, DoublingThenCappedListsMapExactlyOntoT1AndT2)
{
    const auto p = SwitchParams::fromStored({});  // 0.5,1,2,4,4,4,4,4,4,4
    const auto t = p.stackTimers();
    EXPECT_TRUE(t.exact);
    EXPECT_EQ(t.t1, 500ms);
    EXPECT_EQ(t.t2, 4000ms);
    EXPECT_EQ(p.giveUpAfter(), 35500ms);  // 31.5 s of waits + the last wait again
    EXPECT_EQ(t.t1x64, 35499ms);

    const auto flat = SwitchParams::fromStored({{"SS_SIP_RESEND_INTERVAL", "1,1,1"}});
    EXPECT_TRUE(flat.stackTimers().exact);  // T1 = T2 = 1 s
    EXPECT_EQ(flat.stackTimers().t1x64, 3999ms);
}

TEST(Params, OtherShapesAreApproximatedAndSaySo)
{
    const auto p = SwitchParams::fromStored({{"SS_SIP_RESEND_INTERVAL", "0.5,0.5,1,1,2,2,4,4,4,4"}});
    const auto t = p.stackTimers();
    EXPECT_FALSE(t.exact);
    EXPECT_EQ(t.t1, 500ms);
    EXPECT_EQ(t.t2, 4000ms);
    EXPECT_EQ(t.t1x64, 26999ms);  // 23 s of waits + the last again, minus the guard
}

TEST(Params, NoRetransmissionsMeansT1BeyondTheGiveUp)
{
    const auto p = SwitchParams::fromStored({{"SS_SIP_RESEND_INTERVAL", "2,4"},
                                             {"SS_SIP_SEND_RETRY", "0"}});
    const auto t = p.stackTimers();
    EXPECT_GT(t.t1, t.t1x64);
    EXPECT_EQ(t.t1x64, 1999ms);
}
