// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"

#include <cstdint>
#include <functional>

namespace ss::common {

/// Identifies an armed timer; 0 is never a valid id.
using TimerId = std::uint64_t;

/// One-shot timers on the owner's event loop. Callbacks run on that loop, never inside
/// `schedule()`; a cancelled timer's callback never runs. Thread: the owning loop only.
class TimerService {
public:
    virtual ~TimerService() = default;
    /// Arms a timer firing at `deadline` (monotonic). Returns its id.
    virtual TimerId schedule(MonoTime deadline, std::function<void()> callback) = 0;
    /// Disarms `id`; unknown or already fired ids are ignored.
    virtual void cancel(TimerId id) = 0;
};

}  // namespace ss::common
