// SPDX-License-Identifier: Apache-2.0
#pragma once

// Test doubles of the HTTP API's backend, and request builders.

#include "web/admin_api.h"
#include "web/api.h"
#include "web/json_views.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ss::web::testing {

inline constexpr const char* kToken = "test-token-0123456789abcdef";

/// An AdminApi that records what it was asked and answers canned data; `fail` (when set) runs
/// first in every call, so a test can make it throw DbUnavailable and the like.
class FakeAdmin final : public AdminApi {
public:
    std::map<std::string, std::string> stored;
    std::vector<cdr::CdrRow> rows;
    std::vector<cdr::CdrDetail> details;
    std::vector<cdr::CdrStatsRow> stats;
    std::map<std::string, bool> gateways;  // name -> enabled
    std::function<void()> fail;

    std::vector<std::pair<std::string, std::string>> setCalls;
    std::vector<std::string> resetCalls;
    std::vector<cdr::CdrQuery> queries;
    std::vector<std::string> finds;
    std::vector<cdr::CdrStatsQuery> statsQueries;

    std::map<std::string, std::string> storedParams() override;
    std::optional<std::string> setParam(const std::string& name,
                                        const std::string& value) override;
    std::optional<std::string> resetParam(const std::string& name) override;
    std::vector<cdr::CdrRow> queryCdrs(const cdr::CdrQuery& query) override;
    std::vector<cdr::CdrDetail> findCdrs(const std::string& callId) override;
    std::vector<cdr::CdrStatsRow> cdrStats(const cdr::CdrStatsQuery& query) override;
    bool setGatewayEnabled(const std::string& name, bool enabled) override;

private:
    void maybeFail();
};

/// A live state with two calls (one answered) and two gateways (one with two addresses).
common::LiveState sampleLiveState();

/// A request with the HTTP/1.1 version, Host, and (unless `token` is empty) the bearer token.
Request makeRequest(boost::beast::http::verb method, const std::string& target,
                    const std::string& token = kToken, const std::string& body = "");

/// The JSON body of a response (a failed test and null when it is not JSON).
Json bodyJson(const Response& res);

}  // namespace ss::web::testing
