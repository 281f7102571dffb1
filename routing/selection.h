// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"
#include "routing/gateway_availability.h"
#include "routing/gateway_health.h"
#include "routing/routing_table.h"

#include <random>
#include <string>
#include <vector>

namespace ss::routing {

/// One address of one termination gateway: what a single attempt is sent to.
struct Target {
    const common::GatewayConfig* gateway = nullptr;  // owned by the routing table
    std::string ip;
    std::uint16_t port = 5060;
    /// `IP:PORT` (`[IPv6]:PORT`): the key of its health and the attempt's `addr`.
    std::string address() const;
};

/// `IP:PORT`, with brackets around an IPv6 address.
std::string formatAddress(const std::string& ip, std::uint16_t port);

/// The order in which one call tries its gateways (issue 4 §1, §3, §7):
///  1. candidates grouped by site rank, then priority; within a group a weighted random order
///     (each gateway's chance to come first is proportional to its weight);
///  2. each gateway expanded into its addresses; gateways whose PUBLISH heartbeat lapsed and
///     addresses probed down are left out, so a site with nothing usable is skipped whole;
///  3. penalty-free addresses first, in that order; then the blacklisted ones, least recently
///     blacklisted first (seed 001), so a call never waits on a known-dead address while a
///     healthy one is left.
std::vector<Target> planAttempts(const RoutingTable& table,
                                 const std::vector<Candidate>& candidates,
                                 const GatewayHealth& health,
                                 const GatewayAvailability& availability, common::MonoTime now,
                                 std::mt19937_64& random);

}  // namespace ss::routing
