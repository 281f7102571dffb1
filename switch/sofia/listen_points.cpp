// SPDX-License-Identifier: Apache-2.0
#include "common/config_error.h"
#include "switch/sofia/sofia_runtime.h"

#include <charconv>
#include <sstream>

namespace ss::sig {

std::vector<ListenPoint> parseListenPoints(const std::string& spec)
{
    std::vector<ListenPoint> out;
    std::stringstream items(spec);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto first = item.find(':');
        const auto last = item.rfind(':');
        if (first == std::string::npos || first == last) {
            throw ConfigError("--sip: \"" + item + "\" is not allowed; expected udp|tcp:IP:PORT");
        }
        ListenPoint lp;
        if (!common::parseTransport(item.substr(0, first), lp.transport)) {
            throw ConfigError("--sip: transport \"" + item.substr(0, first) +
                              "\" is not allowed; expected udp or tcp");
        }
        lp.ip = item.substr(first + 1, last - first - 1);
        if (lp.ip.size() > 2 && lp.ip.front() == '[' && lp.ip.back() == ']') {
            lp.ip = lp.ip.substr(1, lp.ip.size() - 2);
        }
        const std::string port = item.substr(last + 1);
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (lp.ip.empty() || ec != std::errc() || end != port.data() + port.size() ||
            value > 65535) {
            throw ConfigError("--sip: \"" + item +
                              "\" is not allowed; expected udp|tcp:IP:PORT with PORT 0-65535");
        }
        lp.port = static_cast<std::uint16_t>(value);
        out.push_back(lp);
    }
    if (out.empty()) {
        throw ConfigError("--sip: empty; expected udp|tcp:IP:PORT[,...]");
    }
    return out;
}

}  // namespace ss::sig
