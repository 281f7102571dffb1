// SPDX-License-Identifier: Apache-2.0
#include "switch/gateway_prober.h"

#include "common/log.h"
#include "routing/selection.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace ss::sig {

GatewayProber::GatewayProber(SipStack& stack, const common::Clock& clock,
                             common::TimerService& timers, routing::GatewayHealth& health)
    : stack_(stack), clock_(clock), timers_(timers), health_(health)
{
}

GatewayProber::~GatewayProber()
{
    for (auto& [address, probe] : probes_) {
        stop(probe);
    }
}

void GatewayProber::stop(Probe& probe)
{
    if (probe.timer != 0) {
        timers_.cancel(probe.timer);
        probe.timer = 0;
    }
    if (probe.outstanding != 0) {
        byTxn_.erase(probe.outstanding);
        stack_.releaseClientTxn(probe.outstanding);
        probe.outstanding = 0;
    }
}

void GatewayProber::configure(const routing::RoutingTable& table)
{
    std::map<std::string, Probe> wanted;
    for (const auto& gw : table.provisioning().gateways) {
        auto it = gw.options.find("options-ping");
        const int seconds = it == gw.options.end() ? 0 : std::atoi(it->second.c_str());
        if (seconds <= 0 || !gw.enabled || gw.role != common::GatewayRole::Termination) {
            continue;
        }
        for (const auto& ip : table.addresses(gw)) {
            Probe probe;
            probe.target = {ip, gw.port, gw.transport};
            probe.period = std::chrono::seconds(seconds);
            wanted.emplace(routing::formatAddress(ip, gw.port), probe);
        }
    }
    // Unchanged probes keep their rhythm; the rest stop or start.
    for (auto it = probes_.begin(); it != probes_.end();) {
        auto w = wanted.find(it->first);
        if (w != wanted.end() && w->second.period == it->second.period &&
            w->second.target.transport == it->second.target.transport) {
            wanted.erase(w);
            ++it;
            continue;
        }
        stop(it->second);
        it = probes_.erase(it);
    }
    for (auto& [address, probe] : wanted) {
        probes_.emplace(address, probe);
        send(address);
    }
}

void GatewayProber::send(const std::string& address)
{
    auto it = probes_.find(address);
    if (it == probes_.end()) {
        return;
    }
    Probe& probe = it->second;
    probe.timer = 0;
    if (probe.outstanding != 0) {
        // No final response within a whole period: that probe failed.
        const ClientTxnId late = probe.outstanding;
        finish(probe, false, "no response to OPTIONS", address);
        stack_.releaseClientTxn(late);
    }
    SipRequest options;
    options.method = "OPTIONS";
    probe.outstanding = stack_.sendRequest(probe.target, options);
    if (probe.outstanding == 0) {
        health_.probed(address, false, "OPTIONS could not be sent");
    } else {
        byTxn_[probe.outstanding] = address;
    }
    probe.timer = timers_.schedule(clock_.monotonicNow() + probe.period,
                                   [this, address] { send(address); });
}

void GatewayProber::finish(Probe& probe, bool ok, const std::string& error,
                           const std::string& address)
{
    byTxn_.erase(probe.outstanding);
    probe.outstanding = 0;
    const bool wasDown = health_.probeDown(address);
    health_.probed(address, ok, error);
    if (wasDown != health_.probeDown(address)) {
        common::logger("call")->warn("gateway address {} is {} ({})", address,
                                     ok ? "up again" : "down", ok ? "OPTIONS answered" : error);
    }
}

bool GatewayProber::onResponse(ClientTxnId txn, const SipResponse& resp)
{
    auto it = byTxn_.find(txn);
    if (it == byTxn_.end()) {
        return false;
    }
    if (resp.status < 200) {
        return true;
    }
    const std::string address = it->second;
    auto probe = probes_.find(address);
    if (probe != probes_.end()) {
        finish(probe->second, !resp.internal,
               resp.internal ? std::to_string(resp.status) + " " + resp.reason : std::string(),
               address);
    } else {
        byTxn_.erase(it);
    }
    stack_.releaseClientTxn(txn);
    return true;
}

}  // namespace ss::sig
