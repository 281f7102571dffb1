// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ss::cdr {

/// VOS3000 end direction (0/1/2), SPEC §4.
enum class EndDirection {
    Caller,  // the caller ended it (BYE or CANCEL)
    Callee,  // the callee side ended it (BYE, or a final error relayed to the caller)
    Switch,  // a timer, a limit, no route, all gateways failed, shutdown, ...
};

std::string toString(EndDirection d);

/// One routing attempt of a call (a `cdr_attempt` row).
struct CdrAttempt {
    int seq = 0;  // 1-based, in the order tried
    std::string gateway;
    std::string addr;       // IP:port actually used
    std::string transport;  // "udp" | "tcp"
    common::SysTime startedAt{};
    common::SysTime endedAt{};
    int sipCode = 0;      // final code received, 0 = none
    std::string outcome;  // answered, rejected, cancelled, timeout_invite, transport_error, ...
};

/// One call (a `cdr` row). Every time comes from the same clock, read at the event.
struct CdrRecord {
    std::string node;
    std::string callId;  // the caller's (A-leg) Call-ID
    std::string caller;
    std::string callee;     // as received
    std::string calleeOut;  // as sent to the termination gateway (after translation)
    std::string originGateway;
    std::string originAddr;
    std::string termGateway;  // last gateway tried, "" when none
    std::string termAddr;
    common::SysTime setupAt{};
    std::optional<common::SysTime> ringAt;
    std::optional<common::SysTime> answerAt;
    common::SysTime endAt{};
    EndDirection endDirection = EndDirection::Switch;
    std::string endReason;    // SPEC §4 vocabulary
    std::string disposition;  // recv_bye, send_bye, recv_cancel, send_cancel, recv_refuse, send_refuse
    int sipCode = 0;          // final code of the call (200 for answered calls)
    std::string sipReason;
    int q850Cause = 0;
    std::vector<CdrAttempt> attempts;

    /// first 18x (or answer) − setup; 0 when neither happened.
    std::int64_t pddMs() const;
    /// end − answer; 0 when unanswered.
    std::int64_t holdMs() const;
};

/// Q.850 cause for a final SIP status (RFC 3398 §7.2.4.1 mapping; 16 for a normal clearing).
int q850ForSip(int sipCode);

}  // namespace ss::cdr
