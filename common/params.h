// SPDX-License-Identifier: Apache-2.0
#pragma once

// The switch parameters of SPEC §2 (VOS3000 names): one registry of names, defaults, allowed
// values and meaning, used by swctl to validate before writing and by softswitchd to build its
// typed snapshot. Validation lives here only.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ss::common {

struct ParamSpec {
    const char* name;
    const char* defaultValue;
    const char* allowed;  // human-readable, used in error messages and `swctl param list`
    const char* meaning;
};

/// Every SPEC §2 parameter, in SPEC order.
const std::vector<ParamSpec>& paramSpecs();
/// The spec of `name`, or nullptr when there is no such parameter.
const ParamSpec* findParam(const std::string& name);
/// Why `value` is not allowed for `name` (a message naming both and what is allowed), or
/// nullopt when it is valid. Unknown names are an error too.
std::optional<std::string> validateParam(const std::string& name, const std::string& value);
/// The canonical spelling of a valid value (e.g. "0.50" → "0.5", "ON" → "on").
std::string normalizeParam(const std::string& name, const std::string& value);

/// RFC 3261 agent timers for the transactions the SIP stack times itself (non-INVITE
/// requests over UDP, TCP INVITEs, server-side Timer G/H).
struct StackTimers {
    std::chrono::milliseconds t1;
    std::chrono::milliseconds t2;
    std::chrono::milliseconds t1x64;  // when a transaction gives up (Timer B/F)
    /// The resend list is doubling-then-capped (T1, 2·T1, … up to T2), so non-INVITE copies
    /// go out exactly on the list; otherwise the schedule is T1 doubling up to T2 with the
    /// list's first and largest waits, and only the give-up instant is exact.
    bool exact;
};

/// The typed, validated parameter snapshot the switch runs on.
struct SwitchParams {
    std::vector<std::chrono::milliseconds> resendIntervals;  // SS_SIP_RESEND_INTERVAL
    int sendRetry = 10;                                      // SS_SIP_SEND_RETRY
    std::chrono::seconds timeoutInvite{10};
    std::chrono::seconds timeoutTrying{20};
    std::chrono::seconds timeoutRinging{120};
    std::chrono::seconds sessionTtl{1800};
    int sessionUpdateSegment = 4;
    std::chrono::seconds earlyHangup{0};        // 0 = off
    std::chrono::seconds noTimerReinvite{7200};  // 0 = off
    std::chrono::seconds publishExpire{3600};
    bool enable100rel = false;
    int gatewaySwitchLimit = 0;                  // 0 = no limit
    std::chrono::milliseconds retryAfterTransportError{0};  // 0 = off
    std::chrono::seconds inviteRetryTimeout{32};             // 0 in the table means 32
    std::chrono::seconds blacklistTime{600};
    int cdrRetentionDays = 0;  // SS_CDR_RETENTION_DAYS, 0 = keep forever

    /// The retransmission waits actually used: the first SEND_RETRY entries of the list.
    std::vector<std::chrono::milliseconds> resendSchedule() const;
    /// When an attempt without any answer gives up: the used waits, then the next wait of
    /// the list (or the last one again) for an answer to the last copy.
    std::chrono::milliseconds giveUpAfter() const;
    /// The list mapped onto nta's agent timers (sofia cannot take a per-request schedule
    /// for non-INVITE requests; shared/notes/sofia-sip.md §1.2).
    StackTimers stackTimers() const;
    /// When the switch refreshes a session of `interval` (RFC 4028 §10 with the VOS segment:
    /// (1 − 1/segment) of the interval).
    std::chrono::milliseconds refreshAfter(std::chrono::seconds interval) const;

    /// Builds the snapshot from stored values (absent = default). Invalid stored values are
    /// reported in `errors` (one message each) and the default is used for them.
    static SwitchParams fromStored(const std::map<std::string, std::string>& stored,
                                   std::vector<std::string>* errors = nullptr);
};

}  // namespace ss::common
