// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"
#include "common/provisioning.h"

#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ss::routing {

enum class Admission {
    Admitted,
    AtCapacity,  // `capacity` concurrent calls already
    OverCps,     // `cps` calls admitted within the last second already
};

/// Per-gateway concurrent calls and calls per second (SPEC §1 `--capacity`, `--cps`), for
/// origination and termination gateways alike (names are unique). A call holds one unit of a
/// gateway from admit() to release(). CPS is a sliding one-second window of admissions.
/// Clock-free: every call passes `now`. Thread: any (every SIP thread shares the one instance,
/// so a gateway's limits hold for the whole switch; each method locks).
class GatewayLoad {
public:
    /// Admits one more call through `gateway` unless that breaks its limits (0 = none).
    Admission admit(const common::GatewayConfig& gateway, common::MonoTime now);
    /// The call admitted through `gateway` is over.
    void release(const std::string& gateway);

    int active(const std::string& gateway) const;
    /// Calls admitted within the second before `now`.
    int callsLastSecond(const std::string& gateway, common::MonoTime now) const;

private:
    struct Entry {
        int active = 0;
        std::deque<common::MonoTime> admitted;  // within the last second, oldest first
    };
    static void expire(Entry& e, common::MonoTime now);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ss::routing
