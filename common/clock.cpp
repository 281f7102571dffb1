// SPDX-License-Identifier: Apache-2.0
#include "common/clock.h"

namespace ss::common {

MonoTime SystemClock::monotonicNow() const { return std::chrono::steady_clock::now(); }
SysTime SystemClock::systemNow() const { return std::chrono::system_clock::now(); }

// 2026-01-01T00:00:00Z: a fixed, readable origin for virtual time.
ManualClock::ManualClock()
    : mono_(std::chrono::hours(1000)), sys_(std::chrono::seconds(1767225600))
{
}

}  // namespace ss::common
