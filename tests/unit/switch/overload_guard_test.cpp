// SPDX-License-Identifier: Apache-2.0
// OverloadGuard in virtual time: when a limit on new calls is put in force, how it adapts, and
// when it is lifted.

#include "switch/overload_guard.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ss::sig {
namespace {

using namespace std::chrono_literals;

class OverloadGuardTest : public ::testing::Test {
protected:
    // `span` of virtual time: new calls offered at `cps` (evenly), a probe every 10 ms seeing
    // `backlog`. Returns the calls admitted.
    int run(common::Millis span, int cps, ReceiveBacklog backlog)
    {
        int admitted = 0;
        const auto step = 1ms;
        double due = 0.0;  // calls owed so far
        for (auto t = 0ms; t < span; t += step) {
            now_ += step;
            due += cps * 0.001;
            while (due >= 1.0) {
                due -= 1.0;
                admitted += guard_.admit(now_) ? 1 : 0;
            }
            if ((t + step) % OverloadGuard::kProbeEvery == 0ms) {
                guard_.sample(backlog, now_);
            }
        }
        return admitted;
    }
    static ReceiveBacklog waited(common::Millis wait) { return {wait, 0, 0}; }
    OverloadGuard guard_{{/*shedAboveWait*/ 100ms, /*clearBelowWait*/ 20ms, /*clearAfter*/ 1000ms}};
    common::MonoTime now_{};
};

TEST(RateWindow, CountsTheLastSecondInTenthsAndForgetsIdleTime)
{
    RateWindow w;
    common::MonoTime t{};
    for (int i = 0; i < 10; ++i) {
        w.add(t += 100ms);  // one per 100 ms slot
    }
    EXPECT_EQ(w.lastSecond(t), 10u);
    EXPECT_EQ(w.lastSecond(t + 500ms), 5u);  // half the slots rolled out
    EXPECT_EQ(w.lastSecond(t + 5s), 0u);
    w.add(t + 5s);
    EXPECT_EQ(w.lastSecond(t + 5s), 1u);
}

TEST_F(OverloadGuardTest, WithoutABacklogEveryCallIsAdmitted)
{
    EXPECT_EQ(run(2s, 3000, waited(100ms)), 6000);  // at the threshold, not above
    EXPECT_FALSE(guard_.limiting());
    EXPECT_EQ(guard_.episodes(), 0u);
    EXPECT_EQ(guard_.peakWait(), 100ms);
}

TEST_F(OverloadGuardTest, ABacklogLimitsNewCallsToNinetyPercentOfTheRecentRateThenLess)
{
    run(1s, 1000, waited(0ms));
    EXPECT_TRUE(guard_.sample(waited(101ms), now_ += 1ms));
    EXPECT_TRUE(guard_.limiting());
    // 90 % of the last second's admissions (the window is ten 100 ms slots, the current one
    // just begun): 90 % of 900 to 1000.
    const double start = guard_.callsPerSecond();
    EXPECT_GE(start, 810.0);
    EXPECT_LE(start, 900.0);
    // While the backlog stays, the limit falls by a fifth every 100 ms (not below 10/s).
    const int admitted = run(1s, 2000, waited(400ms));
    EXPECT_LT(admitted, 600);
    EXPECT_GT(admitted, 100);
    EXPECT_NEAR(guard_.callsPerSecond(), start * std::pow(0.8, 10), 1.0);
    run(10s, 2000, waited(400ms));
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), OverloadGuard::kMinCallsPerSecond);
}

TEST_F(OverloadGuardTest, TheLimitRisesWhileTheQueuesAreShortAndIsLiftedWhenDemandFits)
{
    run(1s, 1000, waited(0ms));
    guard_.sample(waited(400ms), now_ += 1ms);
    const double start = guard_.callsPerSecond();
    // Demand above the limit, queues short: the limit rises 5 % per 100 ms, never lifted.
    run(2s, 5000, waited(19ms));
    EXPECT_TRUE(guard_.limiting());
    EXPECT_NEAR(guard_.callsPerSecond(), start * std::pow(1.05, 20), start * 0.06);
    // Demand below the limit for the calm period: lifted.
    run(1100ms, 100, waited(0ms));
    EXPECT_FALSE(guard_.limiting());
    EXPECT_EQ(run(1s, 4000, waited(0ms)), 4000);
}

TEST_F(OverloadGuardTest, AdmissionsFollowTheLimitWithAShortBurst)
{
    run(1s, 500, waited(0ms));
    guard_.sample(waited(400ms), now_ += 1ms);  // limit ~450/s
    const double limit = guard_.callsPerSecond();
    // Waits between the thresholds: the limit holds; 3000 offered per second, ~limit taken.
    const int admitted = run(1s, 3000, waited(20ms));
    EXPECT_NEAR(admitted, limit, limit * 0.15);
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), limit);
}

// The wait lags behind the cuts: while a backlog over the threshold drains, the limit holds;
// it is cut again when the wait grows, and always when the wait is over twice the threshold.
TEST_F(OverloadGuardTest, ABacklogThatDrainsHoldsTheLimitOneThatGrowsCutsIt)
{
    run(1s, 1000, waited(0ms));
    guard_.sample(waited(180ms), now_ += 1ms);
    const double start = guard_.callsPerSecond();
    run(100ms, 2000, waited(170ms));  // draining
    run(100ms, 2000, waited(150ms));
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), start);
    run(100ms, 2000, waited(160ms));  // growing again
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), start * 0.8);
    run(100ms, 2000, waited(150ms));
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), start * 0.8);
    run(100ms, 2000, waited(201ms));  // over twice the threshold, even if it fell
    run(100ms, 2000, waited(200ms + 1ms));
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), start * 0.8 * 0.8 * 0.8);
}

// Short waits but a nearly full buffer: datagrams are about to be dropped, which is pressure
// too; the limit only rises once under an eighth of the buffer is queued. Without a known
// buffer size only the wait counts.
TEST_F(OverloadGuardTest, AHalfFullReceiveBufferIsPressureWhateverTheWait)
{
    run(1s, 1000, waited(0ms));
    EXPECT_FALSE(guard_.sample({0ms, 500, 1000}, now_ += 1ms));  // half: not above
    EXPECT_TRUE(guard_.sample({0ms, 501, 1000}, now_ += 1ms));
    EXPECT_TRUE(guard_.limiting());
    const double start = guard_.callsPerSecond();
    run(500ms, 2000, {0ms, 125, 1000});  // an eighth: not short, the limit holds
    EXPECT_DOUBLE_EQ(guard_.callsPerSecond(), start);
    run(500ms, 2000, {0ms, 124, 1000});
    EXPECT_GT(guard_.callsPerSecond(), start);

    OverloadGuard unknownBuffer{{100ms, 20ms, 1000ms}};
    EXPECT_FALSE(unknownBuffer.sample({0ms, 1u << 30, 0}, now_));
    EXPECT_FALSE(unknownBuffer.limiting());
}

}  // namespace
}  // namespace ss::sig
