// SPDX-License-Identifier: Apache-2.0
#include "cdr/cdr_json.h"

#include "cdr/time_format.h"

#include <cmath>
#include <regex>
#include <utility>
#include <vector>

namespace ss::cdr {

namespace {

// `value` rounded to `decimals` places, as a JSON number (63.25 -> 63.3 with 1).
double rounded(double value, int decimals)
{
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

Json optionalTime(const std::optional<common::SysTime>& t)
{
    return t ? Json(formatIsoMillis(*t)) : Json(nullptr);
}

Json optionalInt(const std::optional<std::int64_t>& v)
{
    return v ? Json(*v) : Json(nullptr);
}

}  // namespace

Json cdrJson(const CdrRow& r)
{
    return {{"id", r.id},
            {"node", r.node},
            {"call_id", r.callId},
            {"caller", r.caller},
            {"callee", r.callee},
            {"callee_out", r.calleeOut},
            {"origin_gateway", r.originGateway},
            {"origin_addr", r.originAddr},
            {"term_gateway", r.termGateway},
            {"term_addr", r.termAddr},
            {"attempts", r.attempts},
            {"setup_at", formatIsoMillis(r.setupAt)},
            {"ring_at", optionalTime(r.ringAt)},
            {"answer_at", optionalTime(r.answerAt)},
            {"end_at", formatIsoMillis(r.endAt)},
            {"pdd_ms", r.pddMs},
            {"hold_ms", r.holdMs},
            {"end_direction", r.endDirection},
            {"end_reason", r.endReason},
            {"disposition", r.disposition},
            {"sip_code", r.sipCode},
            {"sip_reason", r.sipReason},
            {"q850_cause", r.q850Cause}};
}

Json attemptJson(const CdrAttempt& a)
{
    // Stored times have millisecond precision, so duration_ms is exact.
    return {{"seq", a.seq},
            {"gateway", a.gateway},
            {"addr", a.addr},
            {"transport", a.transport},
            {"started_at", formatIsoMillis(a.startedAt)},
            {"ended_at", formatIsoMillis(a.endedAt)},
            {"duration_ms", epochMillis(a.endedAt) - epochMillis(a.startedAt)},
            {"sip_code", a.sipCode == 0 ? Json(nullptr) : Json(a.sipCode)},
            {"outcome", a.outcome}};
}

Json cdrDetailsJson(const std::vector<CdrDetail>& calls)
{
    auto out = Json::array();
    for (const auto& call : calls) {
        auto j = cdrJson(call.cdr);
        auto attempts = Json::array();
        for (const auto& a : call.attempts) {
            attempts.push_back(attemptJson(a));
        }
        j["attempt_list"] = std::move(attempts);
        out.push_back(std::move(j));
    }
    return out;
}

Json statsJson(const CdrStatsRow& r)
{
    auto failures = Json::array();
    for (const auto& f : r.failures) {
        failures.push_back(
            {{"end_reason", f.endReason}, {"sip_code", f.sipCode}, {"calls", f.calls}});
    }
    const auto acd = r.acdSeconds();
    return {{"group", r.group},
            {"calls", r.calls},
            {"answered", r.answered},
            {"asr", rounded(r.asr(), 4)},
            {"acd_s", acd ? Json(rounded(*acd, 1)) : Json(nullptr)},
            {"ner", rounded(r.ner(), 4)},
            {"pdd_p50_ms", optionalInt(r.pddP50Ms)},
            {"pdd_p95_ms", optionalInt(r.pddP95Ms)},
            {"failures", std::move(failures)}};
}

Json statsReportJson(const std::string& by, const CdrStatsQuery& query,
                     const std::vector<CdrStatsRow>& rows)
{
    auto groups = Json::array();
    for (const auto& r : rows) {
        groups.push_back(statsJson(r));
    }
    return {{"by", by},
            {"since", formatIsoMillis(query.since)},
            {"until", query.until ? Json(formatIsoMillis(*query.until)) : Json()},
            {"groups", std::move(groups)}};
}

bool isReasonWord(const std::string& text)
{
    static const std::regex kReason(R"(^[a-z0-9_]{1,64}$)");
    return std::regex_match(text, kReason);
}

std::optional<EndDirection> endDirectionFromWord(const std::string& text)
{
    for (const auto d : {EndDirection::Caller, EndDirection::Callee, EndDirection::Switch}) {
        if (text == toString(d)) {
            return d;
        }
    }
    return std::nullopt;
}

std::optional<StatsGroup> statsGroupFromWord(const std::string& text)
{
    const std::vector<std::pair<std::string, StatsGroup>> groups = {
        {"gateway", StatsGroup::Gateway},
        {"code", StatsGroup::Code},
        {"reason", StatsGroup::Reason},
        {"end-direction", StatsGroup::EndDirection}};
    for (const auto& [name, group] : groups) {
        if (text == name) {
            return group;
        }
    }
    return std::nullopt;
}

}  // namespace ss::cdr
