// SPDX-License-Identifier: Apache-2.0
#include "routing/failover.h"

#include <charconv>

namespace ss::routing {

namespace {

constexpr std::string_view kDefaultFailoverCodes = "408,480,5xx";

std::string_view option(const common::GatewayConfig& gateway, const char* key,
                        std::string_view fallback)
{
    auto it = gateway.options.find(key);
    return it == gateway.options.end() ? fallback : std::string_view(it->second);
}

bool entryMatches(int code, std::string_view entry)
{
    if (entry.size() == 3 && (entry[1] == 'x' || entry[1] == 'X') &&
        (entry[2] == 'x' || entry[2] == 'X')) {
        return entry[0] >= '1' && entry[0] <= '6' && code / 100 == entry[0] - '0';
    }
    int value = 0;
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), value);
    return ec == std::errc() && end == entry.data() + entry.size() && value == code;
}

}  // namespace

bool codeInList(int code, std::string_view list)
{
    while (!list.empty()) {
        const auto comma = list.find(',');
        auto entry = list.substr(0, comma);
        while (!entry.empty() && entry.front() == ' ') {
            entry.remove_prefix(1);
        }
        while (!entry.empty() && entry.back() == ' ') {
            entry.remove_suffix(1);
        }
        if (entryMatches(code, entry)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool shouldFailover(const AttemptResult& result, const common::GatewayConfig& gateway)
{
    if (result.internal) {
        return true;
    }
    if (result.sentSdp && option(gateway, "stop-after-sdp", "on") != "off") {
        return false;
    }
    return codeInList(result.code, option(gateway, "failover-codes", kDefaultFailoverCodes));
}

}  // namespace ss::routing
