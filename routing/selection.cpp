// SPDX-License-Identifier: Apache-2.0
#include "routing/selection.h"

#include <algorithm>
#include <cmath>

namespace ss::routing {

std::string formatAddress(const std::string& ip, std::uint16_t port)
{
    const bool v6 = ip.find(':') != std::string::npos;
    return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::string Target::address() const
{
    return formatAddress(ip, port);
}

namespace {

/// Weighted random order of one group (Efraimidis–Spirakis): key u^(1/w), largest first,
/// which puts each item first with probability weight / total.
void weightedShuffle(std::vector<Candidate>::iterator first,
                     std::vector<Candidate>::iterator last, std::mt19937_64& random)
{
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<std::pair<double, Candidate>> keyed;
    for (auto it = first; it != last; ++it) {
        const double weight = std::max(it->weight, 1);
        keyed.emplace_back(std::pow(uniform(random), 1.0 / weight), *it);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& [key, candidate] : keyed) {
        *first++ = std::move(candidate);
    }
}

}  // namespace

std::vector<Target> planAttempts(const RoutingTable& table,
                                 const std::vector<Candidate>& candidates,
                                 const GatewayHealth& health,
                                 const GatewayAvailability& availability, common::MonoTime now,
                                 std::mt19937_64& random)
{
    std::vector<Candidate> ordered = candidates;
    std::stable_sort(ordered.begin(), ordered.end(), [](const Candidate& a, const Candidate& b) {
        return a.siteRank != b.siteRank ? a.siteRank < b.siteRank : a.priority < b.priority;
    });
    for (auto group = ordered.begin(); group != ordered.end();) {
        auto end = std::find_if(group, ordered.end(), [&](const Candidate& c) {
            return c.siteRank != group->siteRank || c.priority != group->priority;
        });
        if (end - group > 1) {
            weightedShuffle(group, end, random);
        }
        group = end;
    }

    std::vector<Target> healthy;
    std::vector<std::pair<common::MonoTime, Target>> penalised;
    for (const auto& candidate : ordered) {
        const auto& gw = *candidate.gateway;
        if (!availability.usable(gw.name, now)) {
            continue;
        }
        for (const auto& ip : table.addresses(gw)) {
            Target target{&gw, ip, gw.port};
            const auto address = target.address();
            if (health.probeDown(address)) {
                continue;
            }
            if (auto since = health.blacklistedAt(address, now)) {
                penalised.emplace_back(*since, std::move(target));
            } else {
                healthy.push_back(std::move(target));
            }
        }
    }
    // Least recently blacklisted first: its penalty has decayed furthest (seed 001).
    std::stable_sort(penalised.begin(), penalised.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [since, target] : penalised) {
        healthy.push_back(std::move(target));
    }
    return healthy;
}

}  // namespace ss::routing
