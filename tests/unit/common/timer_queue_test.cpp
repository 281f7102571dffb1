// SPDX-License-Identifier: Apache-2.0
#include "common/timer_queue.h"

#include <gtest/gtest.h>

#include <vector>

using namespace std::chrono_literals;
using ss::common::ManualClock;
using ss::common::ManualTimerService;

TEST(TimerQueue, FiresInDeadlineOrderOnlyWhenDue)
{
    ManualClock clock;
    ManualTimerService timers(clock);
    std::vector<int> fired;
    timers.schedule(clock.monotonicNow() + 3s, [&] { fired.push_back(3); });
    timers.schedule(clock.monotonicNow() + 1s, [&] { fired.push_back(1); });
    timers.schedule(clock.monotonicNow() + 2s, [&] { fired.push_back(2); });

    timers.advance(999ms);
    EXPECT_TRUE(fired.empty());
    timers.advance(1s + 1ms);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
    timers.advance(1s);
    EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(timers.pending(), 0u);
}

TEST(TimerQueue, CancelledTimerNeverFires)
{
    ManualClock clock;
    ManualTimerService timers(clock);
    bool fired = false;
    const auto id = timers.schedule(clock.monotonicNow() + 1s, [&] { fired = true; });
    timers.cancel(id);
    timers.cancel(id);  // twice is harmless
    timers.advance(5s);
    EXPECT_FALSE(fired);
}

TEST(TimerQueue, TimerArmedByACallbackFiresAtItsOwnDeadline)
{
    ManualClock clock;
    ManualTimerService timers(clock);
    std::vector<std::chrono::steady_clock::time_point> at;
    const auto start = clock.monotonicNow();
    timers.schedule(start + 1s, [&] {
        at.push_back(clock.monotonicNow());
        timers.schedule(clock.monotonicNow() + 2s, [&] { at.push_back(clock.monotonicNow()); });
    });
    timers.advance(10s);
    ASSERT_EQ(at.size(), 2u);
    EXPECT_EQ(at[0] - start, 1s);
    EXPECT_EQ(at[1] - start, 3s);
}

TEST(TimerQueue, ReportsWhenTheEarliestDeadlineChanges)
{
    ss::common::TimerQueue queue;
    int changes = 0;
    queue.setOnEarliestChanged([&] { ++changes; });
    const auto t0 = std::chrono::steady_clock::time_point{} + 100s;
    queue.schedule(t0 + 5s, [] {});
    queue.schedule(t0 + 9s, [] {});  // not earlier: no re-arm needed
    queue.schedule(t0 + 1s, [] {});
    EXPECT_EQ(changes, 2);
    EXPECT_EQ(queue.nextDeadline(), t0 + 1s);
}
