// SPDX-License-Identifier: Apache-2.0
#include "web/json_views.h"

#include "cdr/time_format.h"

#include <cmath>

namespace ss::web {

namespace {

// `value` rounded to `decimals` places (63.25 -> 63.3 with 1), as swctl rounds.
double rounded(double value, int decimals)
{
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

}  // namespace

std::string dumpJson(const Json& value)
{
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json optionalTime(const std::optional<common::SysTime>& t)
{
    return t ? Json(cdr::formatIsoMillis(*t)) : Json(nullptr);
}

Json callJson(const common::LiveCall& c)
{
    auto legs = Json::array();
    for (const auto& l : c.legs) {
        legs.push_back({{"side", l.side},
                        {"gateway", l.gateway},
                        {"addr", l.addr},
                        {"transport", l.transport},
                        {"state", l.state}});
    }
    auto timers = Json::array();
    for (const auto& t : c.timers) {
        timers.push_back({{"name", t.name}, {"due", cdr::formatIsoMillis(t.due)}});
    }
    return {{"call_id", c.callId},
            {"caller", c.caller},
            {"callee", c.callee},
            {"callee_out", c.calleeOut},
            {"state", c.state},
            {"attempt", c.attempt},
            {"setup_at", cdr::formatIsoMillis(c.setupAt)},
            {"ring_at", optionalTime(c.ringAt)},
            {"answer_at", optionalTime(c.answerAt)},
            {"legs", std::move(legs)},
            {"timers", std::move(timers)}};
}

Json liveGatewayJson(const common::LiveGateway& g)
{
    auto addresses = Json::array();
    for (const auto& a : g.addresses) {
        addresses.push_back({{"addr", a.addr},
                             {"health", a.health},
                             {"penalty", rounded(a.penalty, 3)},
                             {"last_error", a.lastError}});
    }
    auto outcomes = Json::object();
    for (const auto& [outcome, count] : g.outcomes) {
        outcomes[outcome] = count;
    }
    return {{"name", g.name},
            {"role", g.role},
            {"enabled", g.enabled},
            {"site", g.site},
            {"transport", g.transport},
            {"published", g.published},
            {"probing", g.probing},
            {"addresses", std::move(addresses)},
            {"active_calls", g.activeCalls},
            {"capacity", g.capacity},
            {"cps", g.callsLastSecond},
            {"cps_limit", g.cpsLimit},
            {"last_error", g.lastError},
            {"attempts", g.attempts},
            {"outcomes", std::move(outcomes)}};
}

Json paramJson(const common::ParamSpec& spec, const std::map<std::string, std::string>& stored)
{
    std::string value = spec.defaultValue;
    std::optional<std::string> storedValue;
    std::string error;
    bool changed = false;
    if (const auto it = stored.find(spec.name); it != stored.end()) {
        storedValue = it->second;
        if (auto e = common::validateParam(spec.name, it->second)) {
            error = *e;  // the switch falls back to the default (SwitchParams::fromStored)
        } else {
            value = common::normalizeParam(spec.name, it->second);
            changed = value != common::normalizeParam(spec.name, spec.defaultValue);
        }
    }
    Json j = {{"name", spec.name},
              {"value", value},
              {"default", spec.defaultValue},
              {"allowed", spec.allowed},
              {"changed", changed},
              {"differs", changed},
              {"stored", storedValue ? Json(*storedValue) : Json(nullptr)},
              {"meaning", spec.meaning}};
    if (!error.empty()) {
        j["error"] = error;
    }
    return j;
}

}  // namespace ss::web
