// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/timer_service.h"

#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

namespace ss::common {

/// The bookkeeping behind a TimerService: deadlines in one ordered map, so arming, cancelling
/// and finding the next deadline cost O(log n) and nothing scans all timers. A shell (sofia
/// su_timer in the daemon, ManualClock in tests) calls `runDue()` when the earliest deadline
/// has passed. Thread: the owning loop only.
class TimerQueue final : public TimerService {
public:
    TimerId schedule(MonoTime deadline, std::function<void()> callback) override;
    void cancel(TimerId id) override;

    /// Runs, in deadline order, every callback due at `now` (including ones armed by earlier
    /// callbacks that are already due). Returns how many ran.
    std::size_t runDue(MonoTime now);
    /// The earliest armed deadline.
    std::optional<MonoTime> nextDeadline() const;
    std::size_t size() const { return byId_.size(); }

    /// Called after every schedule() whose deadline became the earliest (the shell re-arms).
    void setOnEarliestChanged(std::function<void()> hook) { onEarliestChanged_ = std::move(hook); }

private:
    using Entries = std::multimap<MonoTime, std::pair<TimerId, std::function<void()>>>;
    Entries entries_;
    std::unordered_map<TimerId, Entries::iterator> byId_;
    TimerId nextId_ = 1;
    std::function<void()> onEarliestChanged_;
};

/// A TimerService in virtual time for unit tests (seastar manual_clock, Envoy
/// SimulatedTimeSystem): `advance()` moves the clock and fires what became due.
class ManualTimerService final : public TimerService {
public:
    explicit ManualTimerService(ManualClock& clock) : clock_(clock) {}
    TimerId schedule(MonoTime deadline, std::function<void()> callback) override
    {
        return queue_.schedule(deadline, std::move(callback));
    }
    void cancel(TimerId id) override { queue_.cancel(id); }
    /// Fires every timer due now.
    std::size_t fireDue() { return queue_.runDue(clock_.monotonicNow()); }
    /// Moves time forward in steps no larger than the next deadline, firing timers in order.
    void advance(std::chrono::nanoseconds d);
    std::size_t pending() const { return queue_.size(); }

private:
    ManualClock& clock_;
    TimerQueue queue_;
};

}  // namespace ss::common
