// SPDX-License-Identifier: Apache-2.0
#pragma once

// Overload control (issue 7). When SIP datagrams arrive faster than the sip-loop works them
// off, they wait in the sockets' receive queues. A request that waits there longer than T1
// (500 ms) is retransmitted by its sender, which adds load exactly when there is none to spare:
// the switch collapses into a retransmission storm and drops calls it had already answered.
//
// So the guard limits the rate of new calls while the queues hold a backlog, and refuses the
// rest at once with 503 + Retry-After (cheap: no routing, no B leg); requests within calls are
// never refused. The backlog is measured as a time: how long the oldest unread datagram has
// waited (its kernel receive timestamp), since that is what makes senders retransmit. A byte
// count would mean a different wait at every call rate: 1 MiB is ~30 ms of arrivals at 2,000
// calls/s but ~150 ms at 400. The limit adapts (AIMD):
//  - a probe every kProbeEvery reads the backlog (SofiaRuntime::receiveBacklog);
//  - the first probe under pressure (the oldest datagram waited over `shedAboveWait`, or the
//    queues hold over half their buffer, where datagrams would soon be dropped) sets the limit
//    to 90 % of the calls admitted in the last second; while the pressure lasts, the limit drops
//    by 20 % every kAdjustEvery if the wait grew since the last step (or is over twice the
//    threshold, or the buffer fills), and holds while a backlog drains;
//  - while the backlog is short (waits under `clearBelowWait` and under an eighth of the buffer
//    queued), it rises by 5 % every kAdjustEvery; in between it holds;
//  - after `clearAfter` of short backlog with fewer calls offered than the limit, the limit is
//    lifted.
// New calls are admitted by a token bucket at the limit (100 ms of burst).
//
// The default thresholds: shedding starts at 50 ms of wait, and cuts are forced above 100 ms.
// A transaction's messages wait in this queue more than once before its sender's T1 runs out
// (the callee's 200 waits, then the caller's ACK that stops the 200's retransmission), so one
// wait must stay well under half of T1: with shedding from 100 ms instead, the wait hovered
// around 100–150 ms at 2,000 calls/s offered and the callee retransmitted 418 200 OKs in 10 s.
// The limit eases below 20 ms, above what a busy loop leaves queued in ordinary bursts
// (10–20 ms at ~80 % of a core).

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

/// What waits in the SIP receive queues at one probe.
struct ReceiveBacklog {
    /// How long the oldest unread datagram has waited (the longest over the sockets); 0 when
    /// the queues are empty.
    common::Millis oldestWait{0};
    /// Bytes of receive memory the queued datagrams hold (the kernel's count, SO_MEMINFO).
    std::size_t bytes = 0;
    /// The receive buffers' size (what `bytes` may reach before datagrams are dropped); 0 when
    /// unknown, and then only the wait counts.
    std::size_t capacity = 0;
};

class OverloadGuard {
public:
    static constexpr common::Millis kProbeEvery{10};
    static constexpr common::Millis kAdjustEvery{100};
    static constexpr double kMinCallsPerSecond = 10.0;

    struct Limits {
        common::Millis shedAboveWait{50};
        common::Millis clearBelowWait{20};
        common::Millis clearAfter{1000};
    };

    OverloadGuard() = default;
    explicit OverloadGuard(Limits limits) : limits_(limits) {}

    /// One probe: `backlog` waited in the receive queues at `now`. Returns true when it put a
    /// limit in force or lifted it.
    bool sample(const ReceiveBacklog& backlog, common::MonoTime now);

    /// A new call arrives at `now`: true = take it, false = refuse it (503).
    bool admit(common::MonoTime now);

    /// A limit on new calls is in force.
    bool limiting() const { return limiting_; }
    /// The limit in calls/s (meaningful while limiting()).
    double callsPerSecond() const { return limit_; }
    /// How many times a limit was put in force.
    std::uint64_t episodes() const { return episodes_; }
    /// The longest wait a probe saw.
    common::Millis peakWait() const { return peakWait_; }

private:
    Limits limits_;
    bool limiting_ = false;
    double limit_ = 0.0;
    double tokens_ = 0.0;
    common::MonoTime lastRefill_{};
    common::MonoTime lastAdjust_{};
    common::Millis waitAtAdjust_{0};  // the wait at the last cut (or hold) of the limit
    bool calm_ = false;
    common::MonoTime calmSince_{};
    RateWindow offered_;
    RateWindow admitted_;
    std::uint64_t episodes_ = 0;
    common::Millis peakWait_{0};
};

}  // namespace ss::sig
