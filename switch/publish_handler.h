// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"
#include "common/params.h"
#include "routing/gateway_availability.h"
#include "routing/routing_table.h"
#include "switch/sip_stack.h"

#include <map>
#include <string>

namespace ss::sig {

/// The PUBLISH heartbeat of termination gateways (RFC 3903 as an event state compositor,
/// VOS3000 SS_SIP_PUBLISH_EXPIRE): initial publication, refresh and removal by entity tag; a
/// lapsed publication takes the gateway out of routing until it publishes again.
/// Thread: sip-loop.
class PublishHandler {
public:
    PublishHandler(const common::Clock& clock, routing::GatewayAvailability& availability)
        : clock_(clock), availability_(availability)
    {
    }

    /// The response to a PUBLISH from `req.sourceIp`: 403 for an address that is not an
    /// enabled termination gateway, 489 without Event, 412 for an unknown SIP-If-Match,
    /// 400 for a refresh with a body or an initial one without; otherwise 200 with SIP-ETag
    /// and an Expires no longer than SS_SIP_PUBLISH_EXPIRE (§11.3).
    SipResponse handle(const SipRequest& req, const routing::RoutingTable& table,
                       const common::SwitchParams& params);

private:
    struct Publication {
        std::string etag;
        common::MonoTime expiresAt{};
    };

    const common::Clock& clock_;
    routing::GatewayAvailability& availability_;
    std::map<std::string, Publication> byGateway_;
};

}  // namespace ss::sig
