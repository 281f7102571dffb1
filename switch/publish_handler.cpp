// SPDX-License-Identifier: Apache-2.0
#include "switch/publish_handler.h"

#include "common/ids.h"
#include "common/log.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ss::sig {

namespace {

/// The termination gateway that sent `req`: the one at its source address and port, else the
/// first at its address (gateways sharing an address are told apart by port).
const common::GatewayConfig* terminationAt(const routing::RoutingTable& table,
                                           const SipRequest& req)
{
    const common::GatewayConfig* byAddress = nullptr;
    for (const auto& gw : table.provisioning().gateways) {
        if (gw.role != common::GatewayRole::Termination || !gw.enabled ||
            gw.host != req.sourceIp) {
            continue;
        }
        if (gw.port == req.sourcePort) {
            return &gw;
        }
        if (byAddress == nullptr) {
            byAddress = &gw;
        }
    }
    return byAddress;
}

SipResponse published(const std::string& etag, std::int64_t expires)
{
    auto ok = reply(200, "OK");
    ok.relayHeaders.push_back({"SIP-ETag", etag});
    ok.relayHeaders.push_back({"Expires", std::to_string(expires)});
    return ok;
}

}  // namespace

SipResponse PublishHandler::handle(const SipRequest& req, const routing::RoutingTable& table,
                                   const common::SwitchParams& params)
{
    const common::GatewayConfig* gw = terminationAt(table, req);
    if (gw == nullptr) {
        return reply(403, "Forbidden");  // SPEC §5: unknown sources leave no state
    }
    if (req.event.empty()) {
        auto bad = reply(489, "Bad Event");
        bad.relayHeaders.push_back({"Allow-Events", "presence"});
        return bad;
    }
    const auto now = clock_.monotonicNow();
    const std::int64_t maxExpires = params.publishExpire.count();
    const std::int64_t expires =
        req.expires < 0 ? maxExpires : std::min<std::int64_t>(req.expires, maxExpires);
    auto log = common::logger("routing");

    if (!req.sipIfMatch.empty()) {
        auto it = byGateway_.find(gw->name);
        if (it == byGateway_.end() || it->second.etag != req.sipIfMatch ||
            it->second.expiresAt <= now) {
            return reply(412, "Conditional Request Failed");  // RFC 3903 §6 step 3
        }
        if (expires == 0) {
            byGateway_.erase(it);
            availability_.withdrawn(gw->name, now);
            log->info("gateway {} removed its publication: unavailable", gw->name);
            return published(req.sipIfMatch, 0);
        }
        if (!req.body.empty()) {
            return reply(400, "Bad Request");  // a refresh carries no body (§4.1)
        }
        it->second.etag = common::randomToken(16);
        it->second.expiresAt = now + std::chrono::seconds(expires);
        availability_.published(gw->name, it->second.expiresAt);
        return published(it->second.etag, expires);
    }
    if (expires == 0) {
        return reply(400, "Bad Request");  // removal needs the entity tag
    }
    if (req.body.empty()) {
        return reply(400, "Bad Request");  // an initial publication carries state
    }
    Publication pub{common::randomToken(16), now + std::chrono::seconds(expires)};
    const bool wasUsable = availability_.usable(gw->name, now);
    byGateway_[gw->name] = pub;
    availability_.published(gw->name, pub.expiresAt);
    if (!wasUsable) {
        log->info("gateway {} published again: available", gw->name);
    }
    return published(pub.etag, expires);
}

}  // namespace ss::sig
