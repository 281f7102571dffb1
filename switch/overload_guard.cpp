// SPDX-License-Identifier: Apache-2.0
#include "switch/overload_guard.h"

#include <algorithm>

namespace ss::sig {

namespace {
constexpr common::Millis kSlot{100};
}

void RateWindow::roll(common::MonoTime now)
{
    if (!started_) {
        started_ = true;
        slotStart_ = now;
        return;
    }
    // Whole slots passed since the current one began: each starts empty (at most all ten).
    for (int n = 0; now - slotStart_ >= kSlot && n < 10; ++n) {
        slotStart_ += kSlot;
        current_ = (current_ + 1) % slots_.size();
        slots_[current_] = 0;
    }
    if (now - slotStart_ >= kSlot) {
        slotStart_ = now;  // idle for over a second: everything above was cleared
    }
}

void RateWindow::add(common::MonoTime now)
{
    roll(now);
    ++slots_[current_];
}

std::uint64_t RateWindow::lastSecond(common::MonoTime now)
{
    roll(now);
    std::uint64_t total = 0;
    for (const auto n : slots_) {
        total += n;
    }
    return total;
}

bool OverloadGuard::sample(const ReceiveBacklog& backlog, common::MonoTime now)
{
    peakWait_ = std::max(peakWait_, backlog.oldestWait);
    const bool fillingUp = backlog.capacity > 0 && backlog.bytes > backlog.capacity / 2;
    const bool pressure = backlog.oldestWait > limits_.shedAboveWait || fillingUp;
    const bool shortQueues = backlog.oldestWait < limits_.clearBelowWait &&
                             (backlog.capacity == 0 || backlog.bytes < backlog.capacity / 8);
    if (pressure) {
        calm_ = false;
        if (!limiting_) {
            limiting_ = true;
            ++episodes_;
            limit_ = std::max(kMinCallsPerSecond, 0.9 * double(admitted_.lastSecond(now)));
            tokens_ = 0.0;
            lastRefill_ = now;
            lastAdjust_ = now;
            waitAtAdjust_ = backlog.oldestWait;
            return true;
        }
        if (now - lastAdjust_ >= kAdjustEvery) {
            // Cut again only while the backlog still grows (or is far too long, or the buffer
            // fills): one that already drains is left to drain, or the limit undershoots what
            // the loop can take, since the wait lags behind the cuts.
            if (fillingUp || backlog.oldestWait >= waitAtAdjust_ ||
                backlog.oldestWait > 2 * limits_.shedAboveWait) {
                limit_ = std::max(kMinCallsPerSecond, limit_ * 0.8);
            }
            waitAtAdjust_ = backlog.oldestWait;
            lastAdjust_ = now;
        }
        return false;
    }
    if (!limiting_) {
        return false;
    }
    if (!shortQueues) {
        calm_ = false;
        return false;
    }
    if (now - lastAdjust_ >= kAdjustEvery) {
        limit_ *= 1.05;
        lastAdjust_ = now;
    }
    if (!calm_) {
        calm_ = true;
        calmSince_ = now;
    }
    if (now - calmSince_ >= limits_.clearAfter && double(offered_.lastSecond(now)) < limit_) {
        limiting_ = false;
        calm_ = false;
        return true;
    }
    return false;
}

bool OverloadGuard::admit(common::MonoTime now)
{
    offered_.add(now);
    if (limiting_) {
        const double seconds = std::chrono::duration<double>(now - lastRefill_).count();
        lastRefill_ = now;
        tokens_ = std::min(std::max(1.0, limit_ * 0.1), tokens_ + seconds * limit_);
        if (tokens_ < 1.0) {
            return false;
        }
        tokens_ -= 1.0;
    }
    admitted_.add(now);
    return true;
}

}  // namespace ss::sig
