// SPDX-License-Identifier: Apache-2.0
#pragma once

// The call layer driven through SipEvents with a recording stack, a manual clock and virtual
// timers: the fixtures shared by the switch unit tests.

#include "common/timer_queue.h"
#include "switch/call_manager.h"
#include "tests/support/fake_sip_stack.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ss::testing {

using namespace std::chrono_literals;
using ss::cdr::CdrRecord;
using ss::sig::SipRequest;
using ss::sig::SipResponse;
using Kind = FakeSipStack::Kind;

inline constexpr const char* kSdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
                             "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
inline constexpr const char* kSdp2 = "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
                              "t=0 0\r\nm=audio 4002 RTP/AVP 0\r\n";

class CallManagerTest : public ::testing::Test {
protected:
    CallManagerTest()
        : timers_(clock_),
          manager_(stack_, clock_, timers_, [this](CdrRecord&& r) {
                       cdrs_.push_back(r);
                       return std::uint64_t{0};
                   },
                   {"node-a", nullptr, true})
    {
        ss::common::Provisioning p;
        p.gateways.push_back(gw("orig", ss::common::GatewayRole::Origination, "192.0.2.10", 0));
        p.gateways.push_back(gw("t1", ss::common::GatewayRole::Termination, "198.51.100.1"));
        p.gateways.push_back(gw("t2", ss::common::GatewayRole::Termination, "198.51.100.2"));
        p.routes.push_back({1, "1", "t1", 10, 100, {}});
        p.routes.push_back({2, "1", "t2", 20, 100, {}});
        p.routes.push_back({3, "44", "t1", 10, 100, {}});
        manager_.setRoutingTable(ss::routing::RoutingTable::build(p));
    }

    static ss::common::GatewayConfig gw(const std::string& name, ss::common::GatewayRole role,
                                        const std::string& host, std::uint16_t port = 5060)
    {
        ss::common::GatewayConfig g;
        g.name = name;
        g.role = role;
        g.host = host;
        g.port = port;
        return g;
    }

    static SipRequest invite(const std::string& to, const std::string& ip)
    {
        SipRequest r;
        r.method = "INVITE";
        r.requestUser = to;
        r.requestUri = "sip:" + to + "@203.0.113.1";
        r.from = {"Alice", "2125550000", "sip:2125550000@192.0.2.10", "ftag"};
        r.to = {"", to, "sip:" + to + "@203.0.113.1", ""};
        r.callId = "a-leg-call-id";
        r.sourceIp = ip;
        r.sourcePort = 5060;
        r.contentType = "application/sdp";
        r.body = kSdp;
        r.relayHeaders.push_back({"P-Asserted-Identity", "<sip:2125550000@192.0.2.10>"});
        return r;
    }

    static SipRequest request(const std::string& method, const std::string& body = "")
    {
        SipRequest r;
        r.method = method;
        if (!body.empty()) {
            r.contentType = "application/sdp";
            r.body = body;
        }
        return r;
    }

    static SipResponse response(int status, const std::string& body = "", bool internal = false)
    {
        SipResponse r;
        r.status = status;
        r.reason = "Reason";
        r.internal = internal;
        if (!body.empty()) {
            r.contentType = "application/sdp";
            r.body = body;
        }
        return r;
    }

    void startCall(const std::string& to = "15551234", const std::string& ip = "192.0.2.10")
    {
        aInvite_ = stack_.newServerTxn();
        manager_.onNewInvite(aInvite_, invite(to, ip));
        if (!stack_.ofKind(Kind::StartDialog).empty()) {
            latchB();
        }
    }

    void latchB()
    {
        const auto b = stack_.ofKind(Kind::StartDialog).back();
        bInvite_ = b.txn;
        bDialog_ = b.dialog;
    }

    /// 180 after 300 ms, 200 after 2 s more, then the caller's ACK.
    void answerCall()
    {
        startCall();
        clock_.advance(300ms);
        manager_.onResponse(bInvite_, response(180));
        clock_.advance(2s);
        manager_.onResponse(bInvite_, response(200, kSdp2));
        manager_.onAck(aInvite_, request("ACK"));
    }

    ss::sig::DialogId aDialog() const { return stack_.accepted.at(aInvite_); }

    const CdrRecord& onlyCdr() const
    {
        EXPECT_EQ(cdrs_.size(), 1u);
        return cdrs_.front();
    }

    ss::common::ManualClock clock_;
    ss::common::ManualTimerService timers_;
    ss::testing::FakeSipStack stack_;
    std::vector<CdrRecord> cdrs_;
    ss::sig::CallManager manager_;
    ss::sig::ServerTxnId aInvite_ = 0;
    ss::sig::ClientTxnId bInvite_ = 0;
    ss::sig::DialogId bDialog_ = 0;
};

class TimerTest : public CallManagerTest {
protected:
    void setParams(const std::map<std::string, std::string>& stored)
    {
        manager_.setParams(std::make_shared<const ss::common::SwitchParams>(
            ss::common::SwitchParams::fromStored(stored)));
    }

    /// Offsets from the attempt's start at which INVITE copies were retransmitted, observed
    /// by advancing virtual time in 10 ms steps up to `horizon`.
    std::vector<std::chrono::milliseconds> copiesWithin(std::chrono::milliseconds horizon)
    {
        std::vector<std::chrono::milliseconds> at;
        std::size_t seen = stack_.ofKind(Kind::Retransmit).size();
        for (auto t = 10ms; t <= horizon; t += 10ms) {
            timers_.advance(10ms);
            const auto copies = stack_.ofKind(Kind::Retransmit).size();
            for (; seen < copies; ++seen) {
                at.push_back(t);
            }
        }
        return at;
    }
};

}  // namespace ss::testing
