// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace ss::routing {

/// Live availability of gateways that announce themselves with PUBLISH heartbeats
/// (SS_SIP_PUBLISH_EXPIRE). A gateway that has never published is always usable; one that has
/// is usable only while its publication lives. Evaluated at lookup, so a lapse takes effect at
/// the exact instant without any timer. Thread: any (every SIP thread shares the one instance;
/// each method locks).
class GatewayAvailability {
public:
    /// The gateway published (or refreshed) a state that lives until `expiresAt`.
    void published(const std::string& gateway, common::MonoTime expiresAt)
    {
        const std::lock_guard lock(mutex_);
        publications_[gateway] = expiresAt;
    }
    /// The gateway removed its publication (Expires: 0): unusable until it publishes again.
    void withdrawn(const std::string& gateway, common::MonoTime now)
    {
        const std::lock_guard lock(mutex_);
        publications_[gateway] = now;
    }
    bool usable(const std::string& gateway, common::MonoTime now) const
    {
        const std::lock_guard lock(mutex_);
        auto it = publications_.find(gateway);
        return it == publications_.end() || it->second > now;
    }
    /// Whether the gateway takes part in PUBLISH heartbeats at all.
    bool publishes(const std::string& gateway) const
    {
        const std::lock_guard lock(mutex_);
        return publications_.count(gateway) != 0;
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, common::MonoTime> publications_;
};

}  // namespace ss::routing
