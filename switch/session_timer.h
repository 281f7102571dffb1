// SPDX-License-Identifier: Apache-2.0
#pragma once

// RFC 4028 session timers, negotiated per leg: on the A-leg the switch is the UAS, on the
// B-leg the UAC. Pure functions; the call arms the timers they compute.

#include "switch/sip_stack.h"

#include <chrono>

namespace ss::sig {

/// The smallest session interval the switch accepts (RFC 4028 §4: Min-SE is never below 90 s).
inline constexpr std::chrono::seconds kMinSessionExpires{90};

/// The session timer agreed on one leg.
struct LegSessionTimer {
    bool active = false;  // false: the peer does not do session timers (no-timer keep-alive)
    std::chrono::seconds interval{0};
    bool weRefresh = false;  // refresher is the switch; otherwise the peer must refresh
};

/// What the switch answers to an INVITE (initial or refresh) it receives as UAS.
struct UasSessionDecision {
    bool reject422 = false;  // Session-Expires below our Min-SE (RFC 4028 §8.1)
    SessionTimerFields answer;  // fields for the 2xx (or Min-SE for the 422)
    LegSessionTimer leg;
};

/// RFC 4028 §9: honour the caller's refresher choice; without one, a caller that supports
/// timers refreshes (uac), otherwise the switch does (uas). The interval is the smaller of
/// the caller's Session-Expires and `ttl`, never below the caller's Min-SE. A caller that
/// neither supports timers nor sent Session-Expires gets none (the leg is inactive).
UasSessionDecision negotiateAsUas(const SessionTimerFields& request, std::chrono::seconds ttl);

/// The fields of an INVITE the switch sends as UAC (RFC 4028 §7.1): Session-Expires = `ttl`
/// (raised to `minSe` after a 422), Min-SE, no refresher (the UAS chooses).
SessionTimerFields offerAsUac(std::chrono::seconds ttl, std::chrono::seconds minSe);

/// The timer the UAC ends up with from a 2xx (RFC 4028 §7.2): no Session-Expires in the 2xx
/// means the peer does not do session timers.
LegSessionTimer acceptAsUac(const SessionTimerFields& response);

/// When the switch, as refresher, refreshes: (1 − 1/segment) of the interval (VOS3000
/// SS_SIP_SESSION_UPDATE_SEGMENT; RFC 4028 §10 recommends half, i.e. segment 2).
std::chrono::milliseconds refreshDelay(std::chrono::seconds interval, int segment);

/// When the switch, as the non-refresher, gives the session up: the interval minus
/// min(32 s, interval / 3) (RFC 4028 §10).
std::chrono::milliseconds expiryDelay(std::chrono::seconds interval);

}  // namespace ss::sig
