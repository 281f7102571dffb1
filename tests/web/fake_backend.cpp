// SPDX-License-Identifier: Apache-2.0
#include "tests/web/fake_backend.h"

#include "cdr/errors.h"
#include "common/params.h"

#include <gtest/gtest.h>

namespace ss::web::testing {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

void FakeAdmin::maybeFail()
{
    if (fail) {
        fail();
    }
}

std::map<std::string, std::string> FakeAdmin::storedParams()
{
    maybeFail();
    return stored;
}

std::optional<std::string> FakeAdmin::setParam(const std::string& name, const std::string& value)
{
    maybeFail();
    setCalls.emplace_back(name, value);
    if (const auto error = common::validateParam(name, value)) {
        throw cdr::ValidationError("VALUE", value, *error);
    }
    std::optional<std::string> previous;
    if (const auto it = stored.find(name); it != stored.end()) {
        previous = it->second;
    }
    stored[name] = common::normalizeParam(name, value);
    return previous;
}

std::optional<std::string> FakeAdmin::resetParam(const std::string& name)
{
    maybeFail();
    resetCalls.push_back(name);
    const auto it = stored.find(name);
    if (it == stored.end()) {
        if (common::findParam(name) == nullptr) {
            throw cdr::ValidationError("NAME", name, "no parameter " + name);
        }
        return std::nullopt;
    }
    auto removed = it->second;
    stored.erase(it);
    return removed;
}

std::vector<cdr::CdrRow> FakeAdmin::queryCdrs(const cdr::CdrQuery& query)
{
    maybeFail();
    queries.push_back(query);
    return rows;
}

std::vector<cdr::CdrDetail> FakeAdmin::findCdrs(const std::string& callId)
{
    maybeFail();
    finds.push_back(callId);
    std::vector<cdr::CdrDetail> out;
    for (const auto& d : details) {
        if (d.cdr.callId == callId) {
            out.push_back(d);
        }
    }
    return out;
}

std::vector<cdr::CdrStatsRow> FakeAdmin::cdrStats(const cdr::CdrStatsQuery& query)
{
    maybeFail();
    statsQueries.push_back(query);
    return stats;
}

bool FakeAdmin::setGatewayEnabled(const std::string& name, bool enabled)
{
    maybeFail();
    const auto it = gateways.find(name);
    if (it == gateways.end()) {
        return false;
    }
    it->second = enabled;
    return true;
}

common::LiveState sampleLiveState()
{
    const common::SysTime t0{std::chrono::milliseconds(1767268800123)};  // 2026-01-01T12:00:00.123Z
    common::LiveState s;
    s.at = t0 + 10s;
    s.node = "node-a";
    common::LiveCall up;
    up.callId = "abc@10.0.0.1";
    up.caller = "4930100";
    up.callee = "15551234";
    up.calleeOut = "0015551234";
    up.state = "up";
    up.attempt = 2;
    up.setupAt = t0;
    up.ringAt = t0 + 1500ms;
    up.answerAt = t0 + 4s;
    up.legs = {{"caller", "orig1", "10.0.0.1:5060", "udp", "confirmed"},
               {"callee", "term1", "10.0.1.1:5060", "tcp", "confirmed"}};
    up.timers = {{"session_refresh", t0 + 1354s}};
    common::LiveCall routing;
    routing.callId = "def";
    routing.caller = "4930200";
    routing.callee = "2666";
    routing.state = "routing";
    routing.attempt = 1;
    routing.setupAt = t0 + 9s;
    routing.legs = {{"caller", "orig1", "10.0.0.1:5060", "udp", "trying"}};
    s.calls = {up, routing};

    common::LiveGateway term;
    term.name = "term1";
    term.role = "termination";
    term.site = "east";
    term.transport = "tcp";
    term.probing = true;
    term.addresses = {{"10.0.1.1:5060", "up", 0.0, ""},
                      {"10.0.1.2:5060", "blacklisted", 0.5, "timeout_invite"}};
    term.activeCalls = 1;
    term.capacity = 100;
    term.callsLastSecond = 3;
    term.cpsLimit = 10;
    term.lastError = "timeout_invite";
    term.attempts = 7;
    term.outcomes = {{"answered", 5}, {"timeout_invite", 2}};
    common::LiveGateway orig;
    orig.name = "orig1";
    orig.role = "origination";
    orig.transport = "udp";
    orig.enabled = false;
    orig.published = false;
    s.gateways = {term, orig};

    s.counters.callsOffered = 12;
    s.counters.callsAnswered = 5;
    s.counters.callsEnded = 10;
    s.counters.endReasons = {{"callee_bye", 4}, {"no_route", 6}};
    s.counters.retransmissions = 9;
    s.counters.reloads = 2;
    s.counters.cdrQueueDepth = 1;
    s.counters.cdrSpoolBytes = 0;
    s.counters.cdrDelivered = 10;
    s.counters.callsLastSecond = 3;
    s.counters.sipReceiveWaitMs = 1042;
    return s;
}

Request makeRequest(http::verb method, const std::string& target, const std::string& token,
                    const std::string& body)
{
    Request req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:8080");
    if (!token.empty()) {
        req.set(http::field::authorization, "Bearer " + token);
    }
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    return req;
}

Json bodyJson(const Response& res)
{
    auto j = Json::parse(res.body(), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << res.body();
    return j.is_discarded() ? Json() : j;
}

}  // namespace ss::web::testing
