// SPDX-License-Identifier: Apache-2.0
#include "common/params.h"

#include "common/text.h"

#include <charconv>
#include <cmath>

namespace ss::common {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<ParamSpec> kSpecs = {
    {"SS_SIP_RESEND_INTERVAL", "0.5,1,2,4,4,4,4,4,4,4",
     "1-10 comma-separated seconds, each 0.1-60",
     "wait before each retransmission of an unanswered request over UDP"},
    {"SS_SIP_SEND_RETRY", "10", "0-10", "at most this many retransmissions"},
    {"SS_SIP_TIMEOUT_INVITE", "10", "1-300 (s)", "no response at all to an INVITE: failover"},
    {"SS_SIP_TIMEOUT_TRYING", "20", "1-300 (s)", "100 Trying but no 18x/2xx: failover"},
    {"SS_SIP_TIMEOUT_RINGING", "120", "1-3600 (s)", "18x but no answer: the call ends"},
    {"SS_SIP_SESSION_TTL", "1800", "90-86400 (s)", "Session-Expires offered/accepted"},
    {"SS_SIP_SESSION_UPDATE_SEGMENT", "4", "2-10",
     "refresh when (1 - 1/segment) of the interval has passed"},
    {"SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP", "0", "0 (off) or 1-3600 (s)",
     "a call not answered this long after its INVITE is ended"},
    {"SS_SIP_NO_TIMER_REINVITE_INTERVAL", "7200", "0 (off) or 60-86400 (s)",
     "keep-alive re-INVITE for legs without session timers"},
    {"SS_SIP_PUBLISH_EXPIRE", "3600", "60-86400 (s)", "lifetime of a gateway's PUBLISH"},
    {"SS_SIP_ENABLE_100REL", "off", "on or off", "RFC 3262 reliable provisional responses"},
    {"SS_GATEWAY_SWITCH_LIMIT", "0", "0 (no limit) or 1-20", "gateways tried per call"},
    {"SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR", "0", "0 (off) or 1-34000 (ms)",
     "wait before resending a re-INVITE after a TCP transport error"},
    {"SS_SIP_INVITE_RETRY_TIMEOUT", "0", "0 (= 32) or 1-34 (s)",
     "how long such re-INVITE resending may go on"},
    {"SS_GATEWAY_BLACKLIST_TIME", "600", "0-86400 (s)",
     "how long a gateway address that did not answer stays penalised"},
    // Not a VOS3000 name: softswitch's own (issue 5), in the same table and namespace.
    {"SS_CDR_RETENTION_DAYS", "0", "0 (keep forever) or 1-3650 (days)",
     "daily CDR partitions older than this are dropped"},
};

std::optional<long> parseInt(const std::string& text)
{
    long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

/// Seconds with at most one decimal place ("0.5", "4", "60.0"), as tenths.
std::optional<long> parseTenths(const std::string& text)
{
    const auto dot = text.find('.');
    if (dot == std::string::npos) {
        auto whole = parseInt(text);
        return whole ? std::optional<long>(*whole * 10) : std::nullopt;
    }
    auto whole = parseInt(text.substr(0, dot));
    const std::string frac = text.substr(dot + 1);
    if (!whole || frac.empty() || frac.size() > 2 || frac.find_first_not_of("0123456789") !=
                                                          std::string::npos) {
        return std::nullopt;
    }
    if (frac.size() == 2 && frac[1] != '0') {
        return std::nullopt;  // the list is in tenths of a second
    }
    return *whole * 10 + (frac[0] - '0');
}

std::optional<std::vector<long>> parseList(const std::string& text)
{
    const auto items = splitList(text);
    if (items.empty() || items.size() > 10) {
        return std::nullopt;
    }
    std::vector<long> out;
    for (const auto& item : items) {
        auto tenths = parseTenths(item);
        if (!tenths || *tenths < 1 || *tenths > 600) {
            return std::nullopt;  // an empty item (`1,,2`, `1,`) included
        }
        out.push_back(*tenths);
    }
    return out;
}

bool inRange(const std::string& value, long lo, long hi, bool zeroAllowed)
{
    auto v = parseInt(value);
    return v && ((*v >= lo && *v <= hi) || (zeroAllowed && *v == 0));
}

bool valid(const std::string& name, const std::string& value)
{
    if (name == "SS_SIP_RESEND_INTERVAL") {
        return parseList(value).has_value();
    }
    if (name == "SS_SIP_ENABLE_100REL") {
        return value == "on" || value == "off" || value == "ON" || value == "OFF";
    }
    struct Range {
        const char* name;
        long lo;
        long hi;
        bool zero;
    };
    static const Range kRanges[] = {
        {"SS_SIP_SEND_RETRY", 0, 10, false},
        {"SS_SIP_TIMEOUT_INVITE", 1, 300, false},
        {"SS_SIP_TIMEOUT_TRYING", 1, 300, false},
        {"SS_SIP_TIMEOUT_RINGING", 1, 3600, false},
        {"SS_SIP_SESSION_TTL", 90, 86400, false},
        {"SS_SIP_SESSION_UPDATE_SEGMENT", 2, 10, false},
        {"SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP", 1, 3600, true},
        {"SS_SIP_NO_TIMER_REINVITE_INTERVAL", 60, 86400, true},
        {"SS_SIP_PUBLISH_EXPIRE", 60, 86400, false},
        {"SS_GATEWAY_SWITCH_LIMIT", 1, 20, true},
        {"SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR", 1, 34000, true},
        {"SS_SIP_INVITE_RETRY_TIMEOUT", 1, 34, true},
        {"SS_GATEWAY_BLACKLIST_TIME", 0, 86400, false},
        {"SS_CDR_RETENTION_DAYS", 1, 3650, true},
    };
    for (const auto& r : kRanges) {
        if (name == r.name) {
            return inRange(value, r.lo, r.hi, r.zero);
        }
    }
    return false;
}

}  // namespace

const std::vector<ParamSpec>& paramSpecs() { return kSpecs; }

const ParamSpec* findParam(const std::string& name)
{
    for (const auto& spec : kSpecs) {
        if (name == spec.name) {
            return &spec;
        }
    }
    return nullptr;
}

std::optional<std::string> validateParam(const std::string& name, const std::string& value)
{
    const ParamSpec* spec = findParam(name);
    if (spec == nullptr) {
        return "parameter \"" + name + "\" does not exist; see `swctl param list`";
    }
    if (!valid(name, value)) {
        return std::string(spec->name) + ": \"" + value + "\" is not allowed; expected " +
               spec->allowed;
    }
    return std::nullopt;
}

std::string normalizeParam(const std::string& name, const std::string& value)
{
    if (name == "SS_SIP_ENABLE_100REL") {
        return (value == "on" || value == "ON") ? "on" : "off";
    }
    if (name == "SS_SIP_RESEND_INTERVAL") {
        std::string out;
        for (long tenths : parseList(value).value_or(std::vector<long>{})) {
            if (!out.empty()) {
                out += ",";
            }
            out += std::to_string(tenths / 10);
            if (tenths % 10 != 0) {
                out += "." + std::to_string(tenths % 10);
            }
        }
        return out;
    }
    return std::to_string(parseInt(value).value_or(0));
}

std::vector<milliseconds> SwitchParams::resendSchedule() const
{
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(std::max(sendRetry, 0)),
                                         resendIntervals.size());
    return {resendIntervals.begin(), resendIntervals.begin() + static_cast<long>(n)};
}

milliseconds SwitchParams::giveUpAfter() const
{
    const auto used = resendSchedule();
    milliseconds total{0};
    for (auto wait : used) {
        total += wait;
    }
    const std::size_t n = used.size();
    return total + (n < resendIntervals.size() ? resendIntervals[n] : resendIntervals.back());
}

StackTimers SwitchParams::stackTimers() const
{
    const auto used = resendSchedule();
    // nta retransmits a transaction one last time in the same tick as Timer F when the two
    // coincide, so give up a millisecond before the copy that must not go out.
    const milliseconds giveUp = giveUpAfter() - milliseconds(1);
    if (used.empty()) {
        return {giveUp + milliseconds(1), giveUp + milliseconds(1), giveUp, true};
    }
    milliseconds cap{0};
    for (auto wait : used) {
        cap = std::max(cap, wait);
    }
    bool exact = true;
    for (std::size_t i = 1; i < used.size(); ++i) {
        exact = exact && used[i] == std::min(used[i - 1] * 2, cap);
    }
    return {used.front(), cap, giveUp, exact};
}

milliseconds SwitchParams::refreshAfter(seconds interval) const
{
    const auto ms = std::chrono::duration_cast<milliseconds>(interval);
    return ms - ms / sessionUpdateSegment;
}

SwitchParams SwitchParams::fromStored(const std::map<std::string, std::string>& stored,
                                      std::vector<std::string>* errors)
{
    auto value = [&](const char* name) {
        auto it = stored.find(name);
        const std::string fallback = findParam(name)->defaultValue;
        if (it == stored.end()) {
            return fallback;
        }
        if (auto error = validateParam(name, it->second)) {
            if (errors != nullptr) {
                errors->push_back(*error + " (using the default " + fallback + ")");
            }
            return fallback;
        }
        return it->second;
    };
    auto integer = [&](const char* name) { return parseInt(value(name)).value_or(0); };

    SwitchParams p;
    for (long tenths : parseList(value("SS_SIP_RESEND_INTERVAL")).value_or(std::vector<long>{})) {
        p.resendIntervals.push_back(milliseconds(tenths * 100));
    }
    p.sendRetry = static_cast<int>(integer("SS_SIP_SEND_RETRY"));
    p.timeoutInvite = seconds(integer("SS_SIP_TIMEOUT_INVITE"));
    p.timeoutTrying = seconds(integer("SS_SIP_TIMEOUT_TRYING"));
    p.timeoutRinging = seconds(integer("SS_SIP_TIMEOUT_RINGING"));
    p.sessionTtl = seconds(integer("SS_SIP_SESSION_TTL"));
    p.sessionUpdateSegment = static_cast<int>(integer("SS_SIP_SESSION_UPDATE_SEGMENT"));
    p.earlyHangup = seconds(integer("SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP"));
    p.noTimerReinvite = seconds(integer("SS_SIP_NO_TIMER_REINVITE_INTERVAL"));
    p.publishExpire = seconds(integer("SS_SIP_PUBLISH_EXPIRE"));
    p.enable100rel = normalizeParam("SS_SIP_ENABLE_100REL", value("SS_SIP_ENABLE_100REL")) == "on";
    p.gatewaySwitchLimit = static_cast<int>(integer("SS_GATEWAY_SWITCH_LIMIT"));
    p.retryAfterTransportError = milliseconds(integer("SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR"));
    const long retryTimeout = integer("SS_SIP_INVITE_RETRY_TIMEOUT");
    p.inviteRetryTimeout = seconds(retryTimeout == 0 ? 32 : retryTimeout);
    p.blacklistTime = seconds(integer("SS_GATEWAY_BLACKLIST_TIME"));
    p.cdrRetentionDays = static_cast<int>(integer("SS_CDR_RETENTION_DAYS"));
    return p;
}

}  // namespace ss::common
