// SPDX-License-Identifier: Apache-2.0
#include "routing/failover.h"

#include "common/text.h"

#include <arpa/inet.h>

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
    for (const auto& entry : common::splitList(list)) {
        if (entryMatches(code, entry)) {
            return true;
        }
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

std::optional<std::pair<std::string, std::uint16_t>> parseRetryDestination(std::string_view text)
{
    std::string host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host = std::string(text.substr(1, close - 1));
        const auto rest = text.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || rest.size() == 1)) {
            return std::nullopt;
        }
        port = rest.empty() ? rest : rest.substr(1);
    } else {
        const auto colon = text.find(':');
        const bool v6 = colon != std::string_view::npos &&
                        text.find(':', colon + 1) != std::string_view::npos;
        host = std::string(v6 || colon == std::string_view::npos ? text : text.substr(0, colon));
        port = v6 || colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    }
    in6_addr probe{};
    if (inet_pton(AF_INET, host.c_str(), &probe) != 1 &&
        inet_pton(AF_INET6, host.c_str(), &probe) != 1) {
        return std::nullopt;
    }
    unsigned value = 5060;  // SPEC §3: a missing or invalid port means 5060
    if (!port.empty()) {
        unsigned parsed = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), parsed);
        if (ec == std::errc() && end == port.data() + port.size() && parsed > 0 &&
            parsed <= 65535) {
            value = parsed;
        }
    }
    return std::make_pair(host, static_cast<std::uint16_t>(value));
}

}  // namespace ss::routing
