// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>

namespace ss::common {

using MonoTime = std::chrono::steady_clock::time_point;
using SysTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

/// The only way time enters the switch (after Envoy's TimeSource). `monotonicNow()` measures
/// intervals and arms timers; `systemNow()` stamps CDRs. Thread: any (implementations are
/// immutable or internally synchronised).
class Clock {
public:
    virtual ~Clock() = default;
    virtual MonoTime monotonicNow() const = 0;
    virtual SysTime systemNow() const = 0;
};

/// Wall and steady clocks of the operating system.
class SystemClock final : public Clock {
public:
    MonoTime monotonicNow() const override;
    SysTime systemNow() const override;
};

/// Virtual time for tests: starts at a fixed instant and moves only by `advance()`; both clocks
/// move together.
class ManualClock final : public Clock {
public:
    ManualClock();
    MonoTime monotonicNow() const override { return mono_; }
    SysTime systemNow() const override { return sys_; }
    void advance(std::chrono::nanoseconds d)
    {
        mono_ += d;
        sys_ += std::chrono::duration_cast<SysTime::duration>(d);
    }

private:
    MonoTime mono_;
    SysTime sys_;
};

}  // namespace ss::common
