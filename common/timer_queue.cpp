// SPDX-License-Identifier: Apache-2.0
#include "common/timer_queue.h"

namespace ss::common {

TimerId TimerQueue::schedule(MonoTime deadline, std::function<void()> callback)
{
    const TimerId id = nextId_++;
    const bool earliest = entries_.empty() || deadline < entries_.begin()->first;
    auto it = entries_.emplace(deadline, std::make_pair(id, std::move(callback)));
    byId_.emplace(id, it);
    if (earliest && onEarliestChanged_) {
        onEarliestChanged_();
    }
    return id;
}

void TimerQueue::cancel(TimerId id)
{
    auto it = byId_.find(id);
    if (it == byId_.end()) {
        return;
    }
    entries_.erase(it->second);
    byId_.erase(it);
}

std::size_t TimerQueue::runDue(MonoTime now)
{
    std::size_t ran = 0;
    while (!entries_.empty() && entries_.begin()->first <= now) {
        auto first = entries_.begin();
        auto callback = std::move(first->second.second);
        byId_.erase(first->second.first);
        entries_.erase(first);
        callback();
        ++ran;
    }
    return ran;
}

std::optional<MonoTime> TimerQueue::nextDeadline() const
{
    if (entries_.empty()) {
        return std::nullopt;
    }
    return entries_.begin()->first;
}

void ManualTimerService::advance(std::chrono::nanoseconds d)
{
    const MonoTime target = clock_.monotonicNow() + d;
    while (true) {
        auto next = queue_.nextDeadline();
        if (!next || *next > target) {
            break;
        }
        if (*next > clock_.monotonicNow()) {
            clock_.advance(*next - clock_.monotonicNow());
        }
        queue_.runDue(clock_.monotonicNow());
    }
    if (target > clock_.monotonicNow()) {
        clock_.advance(target - clock_.monotonicNow());
    }
}

}  // namespace ss::common
