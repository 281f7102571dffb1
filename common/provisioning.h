// SPDX-License-Identifier: Apache-2.0
#pragma once

// Plain provisioning records as stored in PostgreSQL (gateway, route, param tables). They live
// in common so that the database layer (cdr/pg) can load them and routing can index them
// without either depending on the other.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ss::common {

enum class GatewayRole {
    Origination,  // sends us calls; matched by source address
    Termination,  // receives calls from us
};

enum class Transport {
    Udp,  // default
    Tcp,  // reliable; connection errors are reported at once
};

struct GatewayConfig {
    std::int64_t id = 0;
    std::string name;
    GatewayRole role = GatewayRole::Termination;
    std::string host;           // IP address or host name
    std::uint16_t port = 5060;  // for origination: 0 means any source port
    Transport transport = Transport::Udp;
    int capacity = 0;  // concurrent calls, 0 = unlimited
    int cps = 0;       // calls per second, 0 = unlimited
    std::string site;
    int prefixStrip = 0;
    std::string prefixAdd;
    bool enabled = true;
    std::map<std::string, std::string> options;  // SPEC §3 per-gateway options
};

struct RouteConfig {
    std::int64_t id = 0;
    std::string prefix;  // digits; "" matches every number
    std::string gateway;
    int priority = 100;  // lower is tried first
    int weight = 100;    // among equal priority
    /// Sites in the order their gateways are tried, e.g. {"east", "west"} (seed 003): every
    /// gateway of the first site before any of the second; gateways of sites not listed come
    /// after the listed ones. Empty = no site ordering. The routes of one prefix share one
    /// order: the first route (by id) that names one sets it.
    std::vector<std::string> siteOrder;
};

/// Everything the switch loads from the database at once, as one consistent snapshot.
struct Provisioning {
    std::vector<GatewayConfig> gateways;
    std::vector<RouteConfig> routes;
    std::map<std::string, std::string> params;  // SPEC §2 names; absent = default
};

std::string toString(GatewayRole role);
std::string toString(Transport transport);
/// Parse helpers; return false on an unknown spelling.
bool parseGatewayRole(const std::string& text, GatewayRole& out);
bool parseTransport(const std::string& text, Transport& out);

}  // namespace ss::common
