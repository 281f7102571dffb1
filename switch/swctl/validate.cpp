// SPDX-License-Identifier: Apache-2.0
#include "switch/swctl/validate.h"

#include "common/text.h"

#include "cdr/cdr_json.h"
#include "cdr/errors.h"
#include "cdr/time_format.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <map>
#include <regex>

namespace ss::swctl {

namespace {

using cdr::invalidValue;

bool isIpv4(const std::string& s)
{
    in_addr a{};
    return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool isIpv6(const std::string& s)
{
    in6_addr a{};
    return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool isDnsName(const std::string& s)
{
    // Dot-separated labels of letters, digits and inner hyphens, 1-63 long.
    static const std::string kLabel = R"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)";
    static const std::regex kName("^" + kLabel + R"((\.)" + kLabel + R"()*\.?$)");
    // All-numeric dotted text that is not an IPv4 address (e.g. 10.0.0.256) is a typo.
    static const std::regex kNumeric(R"(^[0-9.]+$)");
    return s.size() <= 253 && std::regex_match(s, kName) && !std::regex_match(s, kNumeric);
}

std::optional<long long> toInteger(const std::string& text)
{
    long long value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::string joined(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

std::string integerRange(int min, int max)
{
    if (max == INT_MAX) {
        return "an integer >= " + std::to_string(min);
    }
    return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

// SPEC §3 per-gateway options and a checker for each value.
using OptionCheck = void (*)(const std::string& field, const std::string& value);

void checkOnOff(const std::string& field, const std::string& value)
{
    if (value != "on" && value != "off") {
        throw invalidValue(field, value, "on or off");
    }
}

void checkRetryDest(const std::string& field, const std::string& value)
{
    const auto hp = parseHostPort(field, value);
    if (!isIpv4(hp.host) && !isIpv6(hp.host)) {
        throw invalidValue(field, value, "IP[:PORT] (an IP address, port defaults to 5060)");
    }
}

void checkRetryTimeout(const std::string& field, const std::string& value)
{
    parseInt(field, value, 1, 60000);
}

void checkMaxRetries(const std::string& field, const std::string& value)
{
    parseInt(field, value, 0, 100);
}

void checkOptionsPing(const std::string& field, const std::string& value)
{
    parseInt(field, value, 0, 86400);
}

void checkFailoverCodes(const std::string& field, const std::string& value)
{
    static const std::regex kCode(R"(^([3-6][0-9][0-9]|[3-6]xx)$)");
    const auto items = common::splitList(value);
    const bool valid =
        !items.empty() && std::all_of(items.begin(), items.end(), [](const std::string& item) {
            return std::regex_match(item, kCode);
        });
    if (!valid) {
        throw invalidValue(field, value,
                           "a comma-separated list of SIP codes 300-699 or classes such as "
                           "5xx (e.g. 408,480,5xx)");
    }
}

const std::map<std::string, OptionCheck>& gatewayOptions()
{
    static const std::map<std::string, OptionCheck> kOptions = {
        {"retrydest-on-conerr", checkRetryDest},   {"connerr-retry-timeout", checkRetryTimeout},
        {"connerr-max-retries", checkMaxRetries},  {"enable-100rel", checkOnOff},
        {"options-ping", checkOptionsPing},        {"session-timer", checkOnOff},
        {"failover-codes", checkFailoverCodes},    {"stop-after-sdp", checkOnOff},
    };
    return kOptions;
}

}  // namespace

std::string parseName(const std::string& field, const std::string& text)
{
    static const std::regex kName(R"(^[A-Za-z0-9_.-]{1,64}$)");
    if (!std::regex_match(text, kName)) {
        throw invalidValue(field, text, "1 to 64 characters from A-Z a-z 0-9 _ . -");
    }
    return text;
}

std::vector<std::string> parseSiteOrder(const std::string& field, const std::string& text)
{
    const std::string expected =
        "comma-separated site names such as east,west, each 1 to 64 characters from A-Z a-z "
        "0-9 _ . - and named once";
    std::vector<std::string> sites;
    for (const auto& site : common::splitList(text)) {
        try {
            parseName(field, site);
        } catch (const cdr::ValidationError&) {
            // The whole value in the message, and which part of it is wrong when it has parts.
            throw invalidValue(field, text,
                               site == text ? expected
                                            : expected + " (\"" + site + "\" is not a site name)");
        }
        if (std::find(sites.begin(), sites.end(), site) != sites.end()) {
            throw invalidValue(field, text, expected + " (\"" + site + "\" is named twice)");
        }
        sites.push_back(site);
    }
    return sites;
}

int parseInt(const std::string& field, const std::string& text, int min, int max)
{
    const auto value = toInteger(text);
    if (!value || *value < min || *value > max) {
        throw invalidValue(field, text, integerRange(min, max));
    }
    return static_cast<int>(*value);
}

std::int64_t parseId(const std::string& field, const std::string& text)
{
    const auto value = toInteger(text);
    if (!value || *value < 1) {
        throw invalidValue(field, text, "a route id (an integer >= 1, see swctl route list)");
    }
    return *value;
}

common::GatewayRole parseRole(const std::string& field, const std::string& text)
{
    common::GatewayRole role{};
    if (!common::parseGatewayRole(text, role)) {
        throw invalidValue(field, text, "origination or termination");
    }
    return role;
}

common::Transport parseTransport(const std::string& field, const std::string& text)
{
    common::Transport transport{};
    if (!common::parseTransport(text, transport)) {
        throw invalidValue(field, text, "udp or tcp");
    }
    return transport;
}

HostPort parseHostPort(const std::string& field, const std::string& text)
{
    const std::string expected =
        "HOST[:PORT] with HOST an IPv4 address, [IPv6 address] or DNS name and PORT 1-65535";
    HostPort out;
    std::string portText;
    bool hasPort = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) {
            throw invalidValue(field, text, expected);
        }
        out.host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                throw invalidValue(field, text, expected);
            }
            hasPort = true;
            portText = rest.substr(1);
        }
        if (!isIpv6(out.host)) {
            throw invalidValue(field, text, expected);
        }
    } else if (std::count(text.begin(), text.end(), ':') > 1) {
        out.host = text;  // a bare IPv6 address: no port possible
        if (!isIpv6(out.host)) {
            throw invalidValue(field, text, expected);
        }
    } else {
        const auto colon = text.find(':');
        out.host = text.substr(0, colon);
        if (colon != std::string::npos) {
            hasPort = true;
            portText = text.substr(colon + 1);
        }
        if (!isIpv4(out.host) && !isDnsName(out.host)) {
            throw invalidValue(field, text, expected);
        }
    }
    if (hasPort) {
        const auto port = toInteger(portText);
        if (!port || *port < 1 || *port > 65535) {
            throw invalidValue(field, text, expected);
        }
        out.port = static_cast<int>(*port);
    }
    return out;
}

std::string parseDigits(const std::string& field, const std::string& text, std::size_t maxLength)
{
    static const std::regex kDigits(R"(^[0-9*#+]*$)");
    if (text.size() > maxLength || !std::regex_match(text, kDigits)) {
        throw invalidValue(field, text,
                           "up to " + std::to_string(maxLength) + " digits (0-9 * # +)");
    }
    return text;
}

std::vector<std::string> gatewayOptionKeys()
{
    std::vector<std::string> keys;
    for (const auto& [name, check] : gatewayOptions()) {
        keys.push_back(name);
    }
    return keys;
}

std::pair<std::string, std::string> parseGatewayOption(const std::string& text)
{
    const auto eq = text.find('=');
    const std::string key = text.substr(0, eq);
    const auto& options = gatewayOptions();
    const auto it = options.find(key);
    if (eq == std::string::npos || it == options.end()) {
        throw invalidValue("--opt", text,
                           "KEY=VALUE with KEY one of " + joined(gatewayOptionKeys()));
    }
    const std::string value = text.substr(eq + 1);
    it->second("--opt " + key, value);
    return {key, value};
}

const std::vector<std::string>& gatewaySetKeys()
{
    static const std::vector<std::string> kKeys = [] {
        std::vector<std::string> keys = {"host",         "transport",     "capacity", "cps",
                                         "site",         "prefix-strip",  "prefix-add"};
        for (const auto& key : gatewayOptionKeys()) {
            keys.push_back(key);
        }
        return keys;
    }();
    return kKeys;
}

// The same checks as `gateway add` (toGateway in gateway_cmds.cpp) and `--opt`, with the key
// as the field name.
cdr::GatewayChanges parseGatewayChanges(const std::vector<std::string>& keyValues)
{
    cdr::GatewayChanges c;
    std::vector<std::string> seen;
    for (const auto& text : keyValues) {
        const auto eq = text.find('=');
        const std::string key = text.substr(0, eq);
        const auto& keys = gatewaySetKeys();
        if (eq == std::string::npos || std::find(keys.begin(), keys.end(), key) == keys.end()) {
            throw invalidValue("KEY=VALUE", text,
                               "KEY=VALUE with KEY one of " + joined(keys) +
                                   " (a gateway's name and role cannot be changed)");
        }
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
            throw invalidValue("KEY=VALUE", text, "each KEY at most once");
        }
        seen.push_back(key);
        const std::string value = text.substr(eq + 1);
        if (key == "host") {
            const auto hostPort = parseHostPort(key, value);
            c.host = hostPort.host;
            if (hostPort.port) {
                c.port = static_cast<std::uint16_t>(*hostPort.port);
            }
        } else if (key == "transport") {
            c.transport = parseTransport(key, value);
        } else if (key == "capacity") {
            c.capacity = parseInt(key, value, 0, INT_MAX);
        } else if (key == "cps") {
            c.cps = parseInt(key, value, 0, INT_MAX);
        } else if (key == "site") {
            c.site = value.empty() ? value : parseName(key, value);  // "" = no site
        } else if (key == "prefix-strip") {
            c.prefixStrip = parseInt(key, value, 0, 32);
        } else if (key == "prefix-add") {
            c.prefixAdd = parseDigits(key, value, 32);
        } else if (value.empty()) {
            c.options[key] = std::nullopt;  // KEY= removes the option: its default applies
        } else {
            gatewayOptions().at(key)(key, value);
            c.options[key] = value;
        }
    }
    return c;
}

common::SysTime parseTime(const std::string& field, const std::string& text, common::SysTime now)
{
    const auto t = cdr::parseTimeSpec(text, now);
    if (!t) {
        throw invalidValue(field, text, cdr::kTimeSpecAllowed);
    }
    return *t;
}

std::string parseReason(const std::string& field, const std::string& text)
{
    if (!cdr::isReasonWord(text)) {
        throw invalidValue(field, text, "an end reason such as no_route or callee_bye");
    }
    return text;
}

}  // namespace ss::swctl
