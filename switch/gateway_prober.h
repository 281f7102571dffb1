// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"
#include "common/timer_service.h"
#include "routing/gateway_health.h"
#include "routing/routing_table.h"
#include "switch/sip_stack.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace ss::sig {

/// OPTIONS probing of termination gateways (SPEC §3 `options-ping=SECONDS`): every address of
/// every enabled gateway with the option gets an OPTIONS each period. Any response from the
/// peer is a success; a stack-generated one (timeout, transport error) or no final response
/// before the next probe is due is a failure. GatewayHealth turns the results into up/down
/// with hysteresis. Thread: sip-loop.
class GatewayProber {
public:
    GatewayProber(SipStack& stack, const common::Clock& clock, common::TimerService& timers,
                  routing::GatewayHealth& health);
    ~GatewayProber();
    GatewayProber(const GatewayProber&) = delete;
    GatewayProber& operator=(const GatewayProber&) = delete;

    /// Probes what `table` asks for from now on; probes the new table no longer asks for
    /// stop. The first probe of an address goes out at once.
    void configure(const routing::RoutingTable& table);
    /// A response to one of the prober's requests: true when `txn` was one.
    bool onResponse(ClientTxnId txn, const SipResponse& resp);
    std::size_t probedAddresses() const { return probes_.size(); }

private:
    struct Probe {
        SipTarget target;
        std::chrono::seconds period{0};
        common::TimerId timer = 0;
        ClientTxnId outstanding = 0;
    };
    void send(const std::string& address);
    void finish(Probe& probe, bool ok, const std::string& error, const std::string& address);
    void stop(Probe& probe);

    SipStack& stack_;
    const common::Clock& clock_;
    common::TimerService& timers_;
    routing::GatewayHealth& health_;
    std::map<std::string, Probe> probes_;  // by address
    std::unordered_map<ClientTxnId, std::string> byTxn_;
};

}  // namespace ss::sig
