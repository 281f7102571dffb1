// SPDX-License-Identifier: Apache-2.0
#include "routing/routing_table.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

namespace ss::routing {

std::vector<std::string> resolveHost(const std::string& host)
{
    in6_addr probe{};
    if (inet_pton(AF_INET, host.c_str(), &probe) == 1 ||
        inet_pton(AF_INET6, host.c_str(), &probe) == 1) {
        return {host};
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;  // one entry per address, not one per socket type
    addrinfo* list = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0) {
        return {};
    }
    std::vector<std::string> out;
    for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* addr = ai->ai_family == AF_INET
                               ? static_cast<const void*>(
                                     &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr)
                               : static_cast<const void*>(
                                     &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        if (inet_ntop(ai->ai_family, addr, text, sizeof text) != nullptr &&
            std::find(out.begin(), out.end(), text) == out.end()) {
            out.emplace_back(text);
        }
    }
    freeaddrinfo(list);
    return out;
}

std::shared_ptr<const RoutingTable> RoutingTable::build(common::Provisioning provisioning,
                                                        const Resolver& resolver)
{
    return std::shared_ptr<const RoutingTable>(
        new RoutingTable(std::move(provisioning), resolver));
}

RoutingTable::RoutingTable(common::Provisioning provisioning, const Resolver& resolver)
    : provisioning_(std::move(provisioning))
{
    for (const auto& gw : provisioning_.gateways) {
        byName_[gw.name] = &gw;
        auto& addrs = addresses_[&gw];
        addrs = resolver(gw.host);
        if (gw.role == common::GatewayRole::Origination && gw.enabled) {
            for (const auto& ip : addrs) {
                originByIp_.emplace(ip, &gw);
            }
        }
    }
    for (const auto& route : provisioning_.routes) {
        byPrefix_[route.prefix].push_back(&route);
        longestPrefix_ = std::max(longestPrefix_, route.prefix.size());
    }
}

const common::GatewayConfig* RoutingTable::originationFor(std::string_view ip,
                                                          std::uint16_t port) const
{
    const auto [first, last] = originByIp_.equal_range(std::string(ip));
    const common::GatewayConfig* found = nullptr;
    for (auto it = first; it != last; ++it) {
        const auto* gw = it->second;
        // The first provisioned match wins, as the linear scan it replaces did.
        if ((gw->port == 0 || gw->port == port) && (found == nullptr || gw < found)) {
            found = gw;
        }
    }
    return found;
}

const std::vector<std::string>& RoutingTable::addresses(const common::GatewayConfig& gateway) const
{
    static const std::vector<std::string> kNone;
    auto it = addresses_.find(&gateway);
    return it == addresses_.end() ? kNone : it->second;
}

const common::GatewayConfig* RoutingTable::gateway(std::string_view name) const
{
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : it->second;
}

std::vector<Candidate> RoutingTable::candidates(std::string_view number) const
{
    const std::size_t maxLen = std::min(longestPrefix_, number.size());
    for (std::size_t len = maxLen + 1; len-- > 0;) {
        auto it = byPrefix_.find(number.substr(0, len));
        if (it == byPrefix_.end()) {
            continue;
        }
        // The routes of one prefix share one site order: the first that names one sets it.
        const std::vector<std::string>* siteOrder = nullptr;
        for (const auto* route : it->second) {
            if (!route->siteOrder.empty()) {
                siteOrder = &route->siteOrder;
                break;
            }
        }
        std::vector<Candidate> out;
        for (const auto* route : it->second) {
            const auto* gw = gateway(route->gateway);
            if (gw == nullptr || !gw->enabled || gw->role != common::GatewayRole::Termination) {
                continue;
            }
            int rank = 0;
            if (siteOrder != nullptr) {
                const auto pos = std::find(siteOrder->begin(), siteOrder->end(), gw->site);
                rank = static_cast<int>(pos - siteOrder->begin());
            }
            out.push_back({gw, route->prefix, route->priority, route->weight, rank});
        }
        std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
            return a.siteRank != b.siteRank ? a.siteRank < b.siteRank : a.priority < b.priority;
        });
        // A prefix whose gateways are all disabled does not hide a shorter prefix.
        if (!out.empty()) {
            return out;
        }
    }
    return {};
}

std::string translateNumber(const common::GatewayConfig& gateway, std::string_view number)
{
    const auto strip = std::min<std::size_t>(std::max(gateway.prefixStrip, 0), number.size());
    std::string out = gateway.prefixAdd;
    out.append(number.substr(strip));
    return out;
}

}  // namespace ss::routing
