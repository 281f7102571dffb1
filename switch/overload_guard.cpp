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

bool OverloadGuard::sample(std::size_t queuedBytes, common::MonoTime now)
{
    peakBytes_ = std::max(peakBytes_, queuedBytes);
    if (queuedBytes > limits_.shedAboveBytes) {
        calm_ = false;
        if (!limiting_) {
            limiting_ = true;
            ++episodes_;
            limit_ = std::max(kMinCallsPerSecond, 0.9 * double(admitted_.lastSecond(now)));
            tokens_ = 0.0;
            lastRefill_ = now;
            lastAdjust_ = now;
            return true;
        }
        if (now - lastAdjust_ >= kAdjustEvery) {
            limit_ = std::max(kMinCallsPerSecond, limit_ * 0.8);
            lastAdjust_ = now;
        }
        return false;
    }
    if (!limiting_) {
        return false;
    }
    if (queuedBytes >= limits_.clearBelowBytes) {
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
