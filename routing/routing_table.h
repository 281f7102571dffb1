// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/provisioning.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ss::routing {

/// One place a call can be sent: a termination gateway with the number it will see.
struct Candidate {
    const common::GatewayConfig* gateway = nullptr;  // owned by the table
    std::string prefix;                              // the route prefix that matched
    int priority = 0;
    int weight = 0;
};

/// An immutable routing snapshot built from provisioning. Reloads build a new table and swap
/// the shared_ptr, so calls in flight keep the table they started with.
class RoutingTable {
public:
    static std::shared_ptr<const RoutingTable> build(common::Provisioning provisioning);

    /// The enabled origination gateway whose host is `ip` (and whose port is `port`, unless the
    /// gateway's port is 0 = any). nullptr when the source is unknown (→ 403).
    const common::GatewayConfig* originationFor(std::string_view ip, std::uint16_t port) const;

    /// Enabled termination gateways of the longest route prefix matching `number`, by
    /// ascending priority; equal priorities keep insertion order (weights are applied by the
    /// caller's selection policy). Empty when no route matches.
    std::vector<Candidate> candidates(std::string_view number) const;

    const common::Provisioning& provisioning() const { return provisioning_; }

private:
    explicit RoutingTable(common::Provisioning provisioning);

    common::Provisioning provisioning_;
    std::map<std::string, const common::GatewayConfig*> byName_;
    // prefix -> routes of that prefix
    std::map<std::string, std::vector<const common::RouteConfig*>, std::less<>> byPrefix_;
    std::size_t longestPrefix_ = 0;
};

/// The number a gateway is sent: strip `prefixStrip` leading digits, then prepend `prefixAdd`.
std::string translateNumber(const common::GatewayConfig& gateway, std::string_view number);

}  // namespace ss::routing
