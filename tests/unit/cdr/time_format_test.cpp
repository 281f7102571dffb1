// SPDX-License-Identifier: Apache-2.0
#include "cdr/time_format.h"

#include "common/clock.h"

#include <gtest/gtest.h>

namespace ss::cdr {
namespace {

using namespace std::chrono_literals;

// 2026-01-01T00:00:00Z, ManualClock's origin.
common::SysTime origin() { return common::ManualClock().systemNow(); }

TEST(TimeFormat, FormatsUtcTruncatedToMilliseconds)
{
    EXPECT_EQ(formatIsoMillis(origin()), "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(formatIsoMillis(origin() + 1s + 234ms + 999us), "2026-01-01T00:00:01.234Z");
    EXPECT_EQ(formatIsoMillis(origin() + 59 * 24h + 13h + 5min), "2026-03-01T13:05:00.000Z");
    // Before 1970 too, truncated towards the past.
    EXPECT_EQ(formatIsoMillis(common::SysTime{} - 500us), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(formatIsoMillis(fromEpochMillis(-2208988800000 + 7)), "1900-01-01T00:00:00.007Z");
    EXPECT_EQ(formatIsoMillis(fromEpochMillis(9214646400000)), "2262-01-01T00:00:00.000Z");
    std::string out = "at ";
    appendIsoMillis(out, origin() + 10h);
    EXPECT_EQ(out, "at 2026-01-01T10:00:00.000Z");
}

TEST(TimeFormat, EpochMillisRoundTrip)
{
    const auto t = origin() + 1234ms + 500us;
    EXPECT_EQ(epochMillis(t), 1767225601234);
    EXPECT_EQ(fromEpochMillis(epochMillis(t)), origin() + 1234ms);
}

TEST(TimeSpec, ParsesIsoDatesAndTimesAsUtcByDefault)
{
    const auto now = origin();
    EXPECT_EQ(parseTimeSpec("2026-01-01", now), origin());
    EXPECT_EQ(parseTimeSpec("2026-01-01T08:30", now), origin() + 8h + 30min);
    EXPECT_EQ(parseTimeSpec("2026-01-01T08:30:05Z", now), origin() + 8h + 30min + 5s);
    EXPECT_EQ(parseTimeSpec("2026-01-01 08:30:05.25", now), origin() + 8h + 30min + 5s + 250ms);
    EXPECT_EQ(parseTimeSpec("2026-01-01T08:30:05.123456789Z", now),
              origin() + 8h + 30min + 5s + 123ms);
}

TEST(TimeSpec, AppliesExplicitOffsets)
{
    const auto now = origin();
    EXPECT_EQ(parseTimeSpec("2026-01-01T10:00:00+02:00", now), origin() + 8h);
    EXPECT_EQ(parseTimeSpec("2026-01-01T10:00+0200", now), origin() + 8h);
    EXPECT_EQ(parseTimeSpec("2026-01-01T00:00:00-05", now), origin() + 5h);
}

TEST(TimeSpec, ParsesTimesRelativeToNow)
{
    const auto now = origin() + 100 * 24h;
    EXPECT_EQ(parseTimeSpec("now", now), now);
    EXPECT_EQ(parseTimeSpec("-45s", now), now - 45s);
    EXPECT_EQ(parseTimeSpec("-30m", now), now - 30min);
    EXPECT_EQ(parseTimeSpec("-1h", now), now - 1h);
    EXPECT_EQ(parseTimeSpec("-2d", now), now - 48h);
    EXPECT_EQ(parseTimeSpec("-1w", now), now - 7 * 24h);
}

TEST(TimeSpec, RefusesAnythingElse)
{
    const auto now = origin();
    for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-1-01",
                            "2026-01-01T25:00", "2026-01-01T08", "2026-01-01Tfoo",
                            "2026-01-01T08:00:00+2", "2026-01-01T08:00:00.", "-5x", "-m", "-",
                            "1h", "--1h", "-1.5h"}) {
        EXPECT_FALSE(parseTimeSpec(bad, now).has_value()) << bad;
    }
}

}  // namespace
}  // namespace ss::cdr
