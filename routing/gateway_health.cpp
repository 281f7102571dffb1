// SPDX-License-Identifier: Apache-2.0
#include "routing/gateway_health.h"

namespace ss::routing {

const char* toString(HealthState state)
{
    switch (state) {
    case HealthState::Up:
        return "up";
    case HealthState::Blacklisted:
        return "blacklisted";
    case HealthState::ProbeDown:
        return "probe_down";
    }
    return "?";
}

const GatewayHealth::Entry* GatewayHealth::find(const std::string& address) const
{
    auto it = entries_.find(address);
    return it == entries_.end() ? nullptr : &it->second;
}

void GatewayHealth::noAnswer(const std::string& address, common::MonoTime now,
                             std::chrono::seconds blacklistTime, const std::string& error)
{
    const std::lock_guard lock(mutex_);
    auto& e = entries_[address];
    e.lastError = error;
    if (blacklistTime.count() > 0) {
        e.blacklistedAt = now;
        e.penaltyEnds = now + blacklistTime;
    }
}

void GatewayHealth::answered(const std::string& address)
{
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(address);
    if (it != entries_.end()) {
        it->second.penaltyEnds = it->second.blacklistedAt;
    }
}

void GatewayHealth::probed(const std::string& address, bool ok, const std::string& error)
{
    const std::lock_guard lock(mutex_);
    auto& e = entries_[address];
    if (ok) {
        e.probeFailures = 0;
        e.probeDown = false;
        e.penaltyEnds = e.blacklistedAt;  // alive: whatever it failed before is over
        return;
    }
    e.lastError = error;
    if (++e.probeFailures >= kProbeDownAfter) {
        e.probeDown = true;
    }
}

double GatewayHealth::penalty(const std::string& address, common::MonoTime now) const
{
    const std::lock_guard lock(mutex_);
    return penaltyOf(find(address), now);
}

double GatewayHealth::penaltyOf(const Entry* e, common::MonoTime now)
{
    if (e == nullptr || now >= e->penaltyEnds) {
        return 0.0;
    }
    const auto left = std::chrono::duration<double>(e->penaltyEnds - now).count();
    const auto whole = std::chrono::duration<double>(e->penaltyEnds - e->blacklistedAt).count();
    return left / whole;
}

std::optional<common::MonoTime> GatewayHealth::blacklistedAt(const std::string& address,
                                                             common::MonoTime now) const
{
    const std::lock_guard lock(mutex_);
    const Entry* e = find(address);
    if (e == nullptr || now >= e->penaltyEnds) {
        return std::nullopt;
    }
    return e->blacklistedAt;
}

bool GatewayHealth::probeDown(const std::string& address) const
{
    const std::lock_guard lock(mutex_);
    const Entry* e = find(address);
    return e != nullptr && e->probeDown;
}

HealthState GatewayHealth::state(const std::string& address, common::MonoTime now) const
{
    const std::lock_guard lock(mutex_);
    const Entry* e = find(address);
    if (e != nullptr && e->probeDown) {
        return HealthState::ProbeDown;
    }
    return penaltyOf(e, now) > 0.0 ? HealthState::Blacklisted : HealthState::Up;
}

std::string GatewayHealth::lastError(const std::string& address) const
{
    const std::lock_guard lock(mutex_);
    const Entry* e = find(address);
    return e == nullptr ? std::string() : e->lastError;
}

}  // namespace ss::routing
