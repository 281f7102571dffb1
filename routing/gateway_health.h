// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ss::routing {

/// What selection and `swctl gateway status` see of one target address.
enum class HealthState {
    Up,           // penalty-free and not probed down
    Blacklisted,  // gave no answer recently: tried only after every penalty-free address
    ProbeDown,    // OPTIONS probes failed kProbeDownAfter times in a row: not tried at all
};

const char* toString(HealthState state);

/// Health of termination addresses (`IP:PORT`), shared by every call (seed 001): an address
/// that does not answer is blacklisted with a penalty that decays linearly to zero over the
/// blacklist time (SS_GATEWAY_BLACKLIST_TIME); any response clears it. OPTIONS probing keeps
/// a second, independent verdict with hysteresis: down after kProbeDownAfter consecutive
/// failures, up again after one success. Clock-free: every call passes `now`.
/// Thread: any (every SIP thread shares the one instance; each method locks).
class GatewayHealth {
public:
    static constexpr int kProbeDownAfter = 3;

    /// The address gave no answer at all (timeout, resend list exhausted, transport error).
    /// `blacklistTime` 0 = no blacklisting.
    void noAnswer(const std::string& address, common::MonoTime now,
                  std::chrono::seconds blacklistTime, const std::string& error);
    /// The address answered (any response, even an error): it is alive, the penalty goes.
    void answered(const std::string& address);
    /// An OPTIONS probe's outcome (`ok` = any response from the peer).
    void probed(const std::string& address, bool ok, const std::string& error = {});

    /// 1 right after the address was blacklisted, falling linearly to 0 at the end of its
    /// blacklist time; 0 when it is not blacklisted.
    double penalty(const std::string& address, common::MonoTime now) const;
    /// When the address was last blacklisted, while its penalty lasts.
    std::optional<common::MonoTime> blacklistedAt(const std::string& address,
                                                  common::MonoTime now) const;
    bool probeDown(const std::string& address) const;
    HealthState state(const std::string& address, common::MonoTime now) const;
    /// The last failure seen (for operators), empty when none.
    std::string lastError(const std::string& address) const;

private:
    struct Entry {
        common::MonoTime blacklistedAt{};
        common::MonoTime penaltyEnds{};  // == blacklistedAt: not blacklisted
        int probeFailures = 0;
        bool probeDown = false;
        std::string lastError;
    };
    const Entry* find(const std::string& address) const;  // under mutex_
    static double penaltyOf(const Entry* e, common::MonoTime now);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ss::routing
