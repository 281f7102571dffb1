// SPDX-License-Identifier: Apache-2.0
#include "routing/gateway_load.h"

#include <algorithm>

namespace ss::routing {

namespace {
constexpr auto kWindow = std::chrono::seconds(1);
}

void GatewayLoad::expire(Entry& e, common::MonoTime now)
{
    while (!e.admitted.empty() && e.admitted.front() <= now - kWindow) {
        e.admitted.pop_front();
    }
}

Admission GatewayLoad::admit(const common::GatewayConfig& gateway, common::MonoTime now)
{
    const std::lock_guard lock(mutex_);
    auto& e = entries_[gateway.name];
    expire(e, now);
    if (gateway.capacity > 0 && e.active >= gateway.capacity) {
        return Admission::AtCapacity;
    }
    if (gateway.cps > 0 && static_cast<int>(e.admitted.size()) >= gateway.cps) {
        return Admission::OverCps;
    }
    ++e.active;
    e.admitted.push_back(now);
    return Admission::Admitted;
}

void GatewayLoad::release(const std::string& gateway)
{
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(gateway);
    if (it != entries_.end() && it->second.active > 0) {
        --it->second.active;
    }
}

int GatewayLoad::active(const std::string& gateway) const
{
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(gateway);
    return it == entries_.end() ? 0 : it->second.active;
}

int GatewayLoad::callsLastSecond(const std::string& gateway, common::MonoTime now) const
{
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(gateway);
    if (it == entries_.end()) {
        return 0;
    }
    const auto& q = it->second.admitted;
    return static_cast<int>(std::count_if(q.begin(), q.end(), [&](common::MonoTime t) {
        return t > now - kWindow;
    }));
}

}  // namespace ss::routing
