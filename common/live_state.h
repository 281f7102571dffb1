// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the running switch shows of itself: live calls, gateways with their live health, and
// the counters behind /metrics. Plain values, copied off the sip-loop in one go (the HTTP API
// and `swctl calls` / `swctl gateway status` read them), so no reader ever touches call state.

#include "common/clock.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ss::common {

/// A timer a call has armed (e.g. "timeout_ringing", "session_refresh"), due at `due`.
struct LiveTimer {
    std::string name;
    SysTime due{};
};

/// One leg of a live call.
struct LiveLeg {
    std::string side;     // "caller" (origination) or "callee" (termination)
    std::string gateway;  // empty on the callee side before a gateway is tried
    std::string addr;     // IP:PORT
    std::string transport;
    std::string state;  // e.g. "trying", "early", "confirmed", "terminated"
};

struct LiveCall {
    std::string callId;  // the caller leg's Call-ID (the CDR's call_id)
    std::string caller;
    std::string callee;
    std::string calleeOut;  // the number sent to the current gateway
    std::string state;      // routing, ringing, up, ending (B2bCall::State)
    int attempt = 0;        // 1-based number of the gateway attempt in progress or answered
    SysTime setupAt{};
    std::optional<SysTime> ringAt;
    std::optional<SysTime> answerAt;
    std::vector<LiveLeg> legs;
    std::vector<LiveTimer> timers;
};

/// One address of a termination gateway (a host name may resolve to several), with its health.
struct LiveAddress {
    std::string addr;       // IP:PORT
    std::string health;     // "up", "blacklisted", "probe_down" (routing::HealthState)
    double penalty = 0.0;   // 1 just blacklisted → 0 at the end of the blacklist time
    std::string lastError;  // the last failure seen, empty when none
};

struct LiveGateway {
    std::string name;
    std::string role;  // origination | termination
    bool enabled = true;
    std::string site;
    std::string transport;
    bool published = true;  // false: its PUBLISH heartbeat lapsed (unavailable)
    bool probing = false;   // options-ping is on
    std::vector<LiveAddress> addresses;
    int activeCalls = 0;
    int capacity = 0;      // 0 = no limit
    int callsLastSecond = 0;
    int cpsLimit = 0;      // 0 = no limit
    std::string lastError;  // the most recent of its addresses' last errors
    // Since the switch started (counters for /metrics):
    std::uint64_t attempts = 0;                       // attempts sent to it (termination)
    std::map<std::string, std::uint64_t> outcomes;    // attempt outcome → count
};

/// Counters since start and gauges now, for /metrics.
struct LiveCounters {
    std::uint64_t callsOffered = 0;    // INVITEs that created a call
    std::uint64_t callsAnswered = 0;
    std::uint64_t callsEnded = 0;
    std::uint64_t callsShed = 0;  // new calls refused with 503 by the overload guard
    bool overloaded = false;      // the overload guard is shedding new calls now
    std::int64_t sipReceiveWaitMs = 0;  // the oldest unread SIP datagram's wait, last probe
    std::map<std::string, std::uint64_t> endReasons;  // end_reason → calls
    std::uint64_t retransmissions = 0;  // SIP requests and responses resent by the stack
    std::uint64_t reloads = 0;          // provisioning snapshots installed (start-up included)
    std::uint64_t cdrQueueDepth = 0;    // CDRs waiting for the writer
    std::uint64_t cdrSpoolBytes = 0;    // bytes in the CDR spool (database not keeping up)
    std::uint64_t cdrDelivered = 0;     // CDRs in PostgreSQL or the spool
    int callsLastSecond = 0;            // new calls within the last second (CPS)
};

struct LiveState {
    SysTime at{};         // when the copy was taken
    SysTime startedAt{};  // when the daemon started (set by the daemon, not CallManager)
    std::string node;
    std::vector<LiveCall> calls;
    std::vector<LiveGateway> gateways;
    LiveCounters counters;
};

}  // namespace ss::common
