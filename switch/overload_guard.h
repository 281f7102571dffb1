// SPDX-License-Identifier: Apache-2.0
#pragma once

// Overload control (issue 7). When SIP datagrams arrive faster than the sip-loop works them
// off, they wait in the sockets' receive queues. A request that waits there longer than T1
// (500 ms) is retransmitted by its sender, which adds load exactly when there is none to spare:
// the switch collapses into a retransmission storm and drops calls it had already answered.
//
// So the guard limits the rate of new calls while the queues hold a backlog, and refuses the
// rest at once with 503 + Retry-After (cheap: no routing, no B leg); requests within calls are
// never refused. The limit adapts (AIMD):
//  - a probe every kProbeEvery reads the queued bytes (SofiaRuntime::receiveQueueBytes);
//  - the first probe above `shedAboveBytes` sets the limit to 90 % of the calls admitted in the
//    last second; while probes stay above it, the limit drops by 20 % every kAdjustEvery;
//  - while they are below `clearBelowBytes`, it rises by 5 % every kAdjustEvery;
//  - after `clearAfter` below `clearBelowBytes` with fewer calls offered than the limit, the
//    limit is lifted.
// New calls are admitted by a token bucket at the limit (100 ms of burst).
//
// The default thresholds: a queued INVITE costs ~2.3 KiB of receive memory on Linux (truesize
// of a ~1 KiB datagram) and this switch works off several thousand datagrams/s, so 1 MiB is
// ~450 datagrams, well under T1 of work, and far more than ordinary bursts leave queued.

#include "common/clock.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace ss::sig {

/// Events per second over the last second, in 100 ms slots.
class RateWindow {
public:
    void add(common::MonoTime now);
    /// Events in the last second (the current slot and the nine before it).
    std::uint64_t lastSecond(common::MonoTime now);

private:
    void roll(common::MonoTime now);
    std::array<std::uint64_t, 10> slots_{};
    std::size_t current_ = 0;
    common::MonoTime slotStart_{};
    bool started_ = false;
};

class OverloadGuard {
public:
    static constexpr common::Millis kProbeEvery{10};
    static constexpr common::Millis kAdjustEvery{100};
    static constexpr double kMinCallsPerSecond = 10.0;

    struct Limits {
        std::size_t shedAboveBytes = 1024 * 1024;
        std::size_t clearBelowBytes = 256 * 1024;
        common::Millis clearAfter{1000};
    };

    OverloadGuard() = default;
    explicit OverloadGuard(Limits limits) : limits_(limits) {}

    /// One probe: `queuedBytes` waited in the receive queues at `now`. Returns true when it
    /// put a limit in force or lifted it.
    bool sample(std::size_t queuedBytes, common::MonoTime now);

    /// A new call arrives at `now`: true = take it, false = refuse it (503).
    bool admit(common::MonoTime now);

    /// A limit on new calls is in force.
    bool limiting() const { return limiting_; }
    /// The limit in calls/s (meaningful while limiting()).
    double callsPerSecond() const { return limit_; }
    /// How many times a limit was put in force.
    std::uint64_t episodes() const { return episodes_; }
    /// The largest backlog a probe saw.
    std::size_t peakBytes() const { return peakBytes_; }

private:
    Limits limits_;
    bool limiting_ = false;
    double limit_ = 0.0;
    double tokens_ = 0.0;
    common::MonoTime lastRefill_{};
    common::MonoTime lastAdjust_{};
    bool calm_ = false;
    common::MonoTime calmSince_{};
    RateWindow offered_;
    RateWindow admitted_;
    std::uint64_t episodes_ = 0;
    std::size_t peakBytes_ = 0;
};

}  // namespace ss::sig
