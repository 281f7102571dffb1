// SPDX-License-Identifier: Apache-2.0
#include "switch/session_timer.h"

#include <algorithm>

namespace ss::sig {

using std::chrono::milliseconds;
using std::chrono::seconds;

UasSessionDecision negotiateAsUas(const SessionTimerFields& request, seconds ttl)
{
    UasSessionDecision d;
    const seconds requested(request.sessionExpires);
    if (request.sessionExpires != 0 && requested < kMinSessionExpires) {
        d.reject422 = true;
        d.answer.minSe = static_cast<std::uint32_t>(kMinSessionExpires.count());
        return d;
    }
    if (request.sessionExpires == 0 && !request.supportsTimer) {
        return d;  // inactive: the no-timer keep-alive covers this leg
    }
    seconds interval = request.sessionExpires != 0 ? std::min(requested, ttl) : ttl;
    interval = std::max({interval, seconds(request.minSe), kMinSessionExpires});

    std::string refresher = request.refresher;
    if (refresher != "uac" && refresher != "uas") {
        refresher = request.supportsTimer ? "uac" : "uas";
    }
    if (refresher == "uac" && !request.supportsTimer) {
        refresher = "uas";  // §9: a UAC that did not say Supported: timer cannot refresh
    }
    d.answer.sessionExpires = static_cast<std::uint32_t>(interval.count());
    d.answer.refresher = refresher;
    d.answer.requiresTimer = refresher == "uac";
    d.leg = {true, interval, refresher == "uas"};
    return d;
}

SessionTimerFields offerAsUac(seconds ttl, seconds minSe)
{
    SessionTimerFields f;
    const seconds floor = std::max(minSe, kMinSessionExpires);
    f.sessionExpires = static_cast<std::uint32_t>(std::max(ttl, floor).count());
    f.minSe = static_cast<std::uint32_t>(floor.count());
    return f;
}

LegSessionTimer acceptAsUac(const SessionTimerFields& response)
{
    if (response.sessionExpires == 0) {
        return {};
    }
    // §7.2: refresher=uas means the peer refreshes; "uac" or absent means we do.
    return {true, seconds(response.sessionExpires), response.refresher != "uas"};
}

milliseconds refreshDelay(seconds interval, int segment)
{
    const milliseconds ms = interval;
    return ms - ms / std::max(segment, 2);
}

milliseconds expiryDelay(seconds interval)
{
    const milliseconds ms = interval;
    return ms - std::min<milliseconds>(seconds(32), ms / 3);
}

}  // namespace ss::sig
