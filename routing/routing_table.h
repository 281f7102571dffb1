// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/provisioning.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ss::routing {

/// One place a call can be sent: a termination gateway with the number it will see.
struct Candidate {
    const common::GatewayConfig* gateway = nullptr;  // owned by the table
    std::string prefix;                              // the route prefix that matched
    int priority = 0;
    int weight = 0;
    /// Position of the gateway's site in the route's site order (seed 003); sites not named
    /// there come after every named one. 0 for every gateway when the route names no order.
    int siteRank = 0;
};

/// Host name → its IP addresses (A and AAAA), in resolver order; an IP literal → itself.
/// Empty when the name does not resolve.
using Resolver = std::function<std::vector<std::string>(const std::string& host)>;

/// getaddrinfo(3), for the daemon. Blocking: call it where blocking is allowed (a table is
/// built off the sip-loop, on start-up and reload).
std::vector<std::string> resolveHost(const std::string& host);

/// An immutable routing snapshot built from provisioning. Reloads build a new table and swap
/// the shared_ptr, so calls in flight keep the table they started with. Host names are
/// resolved once, when the table is built: a gateway whose name resolves to several addresses
/// is several targets (SPEC §3), each with its own health.
class RoutingTable {
public:
    static std::shared_ptr<const RoutingTable> build(common::Provisioning provisioning,
                                                     const Resolver& resolver = resolveHost);

    /// The enabled origination gateway with an address `ip` (and whose port is `port`, unless
    /// the gateway's port is 0 = any). nullptr when the source is unknown (→ 403).
    const common::GatewayConfig* originationFor(std::string_view ip, std::uint16_t port) const;

    /// Enabled termination gateways of the longest route prefix matching `number`, by site
    /// rank, then ascending priority; equal ones keep insertion order (weights are applied by
    /// selection, routing/selection.h). Empty when no route matches.
    std::vector<Candidate> candidates(std::string_view number) const;

    /// The addresses of a gateway of this table (empty when its host did not resolve).
    const std::vector<std::string>& addresses(const common::GatewayConfig& gateway) const;

    const common::GatewayConfig* gateway(std::string_view name) const;

    const common::Provisioning& provisioning() const { return provisioning_; }

private:
    RoutingTable(common::Provisioning provisioning, const Resolver& resolver);

    common::Provisioning provisioning_;
    std::map<std::string, const common::GatewayConfig*, std::less<>> byName_;
    std::unordered_map<const common::GatewayConfig*, std::vector<std::string>> addresses_;
    // source IP -> enabled origination gateways with that address
    std::unordered_multimap<std::string, const common::GatewayConfig*> originByIp_;
    // prefix -> routes of that prefix
    std::map<std::string, std::vector<const common::RouteConfig*>, std::less<>> byPrefix_;
    std::size_t longestPrefix_ = 0;
};

/// The number a gateway is sent: strip `prefixStrip` leading digits, then prepend `prefixAdd`.
std::string translateNumber(const common::GatewayConfig& gateway, std::string_view number);

}  // namespace ss::routing
