// SPDX-License-Identifier: Apache-2.0
#include "routing/routing_table.h"

#include <algorithm>

namespace ss::routing {

std::shared_ptr<const RoutingTable> RoutingTable::build(common::Provisioning provisioning)
{
    return std::shared_ptr<const RoutingTable>(new RoutingTable(std::move(provisioning)));
}

RoutingTable::RoutingTable(common::Provisioning provisioning)
    : provisioning_(std::move(provisioning))
{
    for (const auto& gw : provisioning_.gateways) {
        byName_[gw.name] = &gw;
    }
    for (const auto& route : provisioning_.routes) {
        byPrefix_[route.prefix].push_back(&route);
        longestPrefix_ = std::max(longestPrefix_, route.prefix.size());
    }
}

const common::GatewayConfig* RoutingTable::originationFor(std::string_view ip,
                                                          std::uint16_t port) const
{
    for (const auto& gw : provisioning_.gateways) {
        if (gw.role == common::GatewayRole::Origination && gw.enabled && gw.host == ip &&
            (gw.port == 0 || gw.port == port)) {
            return &gw;
        }
    }
    return nullptr;
}

std::vector<Candidate> RoutingTable::candidates(std::string_view number) const
{
    const std::size_t maxLen = std::min(longestPrefix_, number.size());
    for (std::size_t len = maxLen + 1; len-- > 0;) {
        auto it = byPrefix_.find(number.substr(0, len));
        if (it == byPrefix_.end()) {
            continue;
        }
        std::vector<Candidate> out;
        for (const auto* route : it->second) {
            auto gw = byName_.find(route->gateway);
            if (gw == byName_.end() || !gw->second->enabled ||
                gw->second->role != common::GatewayRole::Termination) {
                continue;
            }
            out.push_back({gw->second, route->prefix, route->priority, route->weight});
        }
        std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
            return a.priority < b.priority;
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
