// SPDX-License-Identifier: Apache-2.0
// The failover router as the call layer executes it (issue 4), in virtual time: health and
// blacklisting across calls, limits, the switch limit, reliable-connection retry (seed 000),
// re-INVITE resending after a transport error (seed 002) and OPTIONS probing.
#include "tests/unit/switch/call_fixture.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

using namespace std::chrono_literals;
using ss::cdr::EndDirection;
using ss::common::GatewayConfig;
using ss::common::GatewayRole;
using ss::common::Provisioning;
using ss::common::Transport;
using ss::sig::SipResponse;
using ss::testing::kSdp2;
using Kind = ss::testing::FakeSipStack::Kind;

namespace {

class FailoverTest : public ss::testing::TimerTest {
protected:
    /// orig → t1 (priority 10), t2 (priority 20), t3 (priority 30); `edit` adjusts them.
    void provision(const std::function<void(Provisioning&)>& edit = {})
    {
        Provisioning p;
        p.gateways.push_back(gw("orig", GatewayRole::Origination, "192.0.2.10", 0));
        p.gateways.push_back(gw("t1", GatewayRole::Termination, "198.51.100.1"));
        p.gateways.push_back(gw("t2", GatewayRole::Termination, "198.51.100.2"));
        p.gateways.push_back(gw("t3", GatewayRole::Termination, "198.51.100.3"));
        p.routes.push_back({1, "1", "t1", 10, 100, {}});
        p.routes.push_back({2, "1", "t2", 20, 100, {}});
        p.routes.push_back({3, "1", "t3", 30, 100, {}});
        if (edit) {
            edit(p);
        }
        manager_.setRoutingTable(ss::routing::RoutingTable::build(p));
    }

    GatewayConfig& find(Provisioning& p, const std::string& name)
    {
        for (auto& g : p.gateways) {
            if (g.name == name) {
                return g;
            }
        }
        throw std::runtime_error("no gateway " + name);
    }

    /// Host of each INVITE the switch started, in order.
    std::vector<std::string> invitedHosts() const
    {
        std::vector<std::string> out;
        for (const auto& c : stack_.ofKind(Kind::StartDialog)) {
            out.push_back(c.newDialog.target.host + ":" + std::to_string(c.newDialog.target.port));
        }
        return out;
    }

    std::vector<std::string> outcomes(const ss::cdr::CdrRecord& cdr) const
    {
        std::vector<std::string> out;
        for (const auto& a : cdr.attempts) {
            out.push_back(a.gateway + "/" + a.outcome + "/" + std::to_string(a.sipCode));
        }
        return out;
    }

    void answerLatest()
    {
        latchB();
        manager_.onResponse(bInvite_, response(200, kSdp2));
        manager_.onAck(aInvite_, request("ACK"));
    }

    void hangUp()
    {
        const auto bye = stack_.newServerTxn();
        manager_.onDialogRequest(aDialog(), bye, request("BYE"));
        for (const auto& c : stack_.ofKind(Kind::SendInDialog)) {
            if (c.method == "BYE") {
                manager_.onResponse(c.txn, response(200));
            }
        }
    }

    using Strings = std::vector<std::string>;
};

SipResponse internal(int status)
{
    SipResponse r;
    r.status = status;
    r.reason = "Transport Error";
    r.internal = true;
    return r;
}

}  // namespace

TEST_F(FailoverTest, ASilentAddressIsBlacklistedSoTheNextCallGoesStraightToAHealthyOne)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "0.5,0.5"}, {"SS_SIP_SEND_RETRY", "1"}});
    provision();
    startCall();
    timers_.advance(1s);  // copy at 0.5 s, give up at 1 s
    ASSERT_EQ(invitedHosts(), (Strings{"198.51.100.1:5060", "198.51.100.2:5060"}));
    answerLatest();
    hangUp();
    EXPECT_EQ(outcomes(cdrs_.at(0)), (Strings{"t1/resend_exhausted/0", "t2/answered/200"}));
    EXPECT_EQ(cdrs_.at(0).attempts.at(0).addr, "198.51.100.1:5060");
    EXPECT_TRUE(stack_.allReleased());

    // The next call does not wait out t1's timers again: t2 first, t1 only as a last resort.
    startCall();
    EXPECT_EQ(invitedHosts().back(), "198.51.100.2:5060");
    answerLatest();
    hangUp();
    EXPECT_EQ(outcomes(cdrs_.at(1)), (Strings{"t2/answered/200"}));

    // After SS_GATEWAY_BLACKLIST_TIME (600 s) t1 is first again.
    timers_.advance(600s);
    startCall();
    EXPECT_EQ(invitedHosts().back(), "198.51.100.1:5060");
}

TEST_F(FailoverTest, ABlacklistedAddressIsStillTriedWhenNothingHealthyIsLeft)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "0.5"}, {"SS_SIP_SEND_RETRY", "0"}});
    provision([](Provisioning& p) { p.routes.resize(1); });
    startCall();
    timers_.advance(500ms);
    EXPECT_EQ(onlyCdr().endReason, "all_gateways_failed");
    startCall();
    EXPECT_EQ(invitedHosts().size(), 2u);  // t1 again: the least recently blacklisted
}

TEST_F(FailoverTest, ATransportErrorFailsOverAtOnceAndBlacklists)
{
    provision();
    startCall();
    latchB();
    manager_.onResponse(bInvite_, internal(503));
    ASSERT_EQ(invitedHosts(), (Strings{"198.51.100.1:5060", "198.51.100.2:5060"}));
    answerLatest();
    hangUp();
    const auto& cdr = onlyCdr();
    EXPECT_EQ(outcomes(cdr), (Strings{"t1/transport_error/0", "t2/answered/200"}));
    EXPECT_EQ(cdr.attempts[0].startedAt, cdr.attempts[0].endedAt);  // no timer waited out
    EXPECT_EQ(manager_.health().state("198.51.100.1:5060", clock_.monotonicNow()),
              ss::routing::HealthState::Blacklisted);
}

TEST_F(FailoverTest, AnyAnswerClearsABlacklistedAddress)
{
    provision();
    manager_.health().noAnswer("198.51.100.2:5060", clock_.monotonicNow(), 600s, "x");
    startCall();
    latchB();
    manager_.onResponse(bInvite_, response(503));  // t1 answered: alive, even if unhappy
    latchB();
    manager_.onResponse(bInvite_, response(486));  // t3 (t2 blacklisted, last): busy
    EXPECT_EQ(outcomes(onlyCdr()), (Strings{"t1/rejected/503", "t3/rejected/486"}));
    EXPECT_EQ(onlyCdr().endReason, "callee_rejected");
    EXPECT_EQ(stack_.lastStatus(aInvite_), 486);
}

TEST_F(FailoverTest, AllGatewaysFailingRelaysTheLastCode)
{
    provision();
    startCall();
    for (int code : {503, 480, 502}) {
        latchB();
        manager_.onResponse(bInvite_, response(code));
    }
    EXPECT_EQ(stack_.lastStatus(aInvite_), 502);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "all_gateways_failed");
    EXPECT_EQ(cdr.sipCode, 502);
    EXPECT_EQ(cdr.attempts.size(), 3u);
}

TEST_F(FailoverTest, SwitchLimitStopsTheHunt)
{
    setParams({{"SS_GATEWAY_SWITCH_LIMIT", "2"}});
    provision();
    startCall();
    for (int i = 0; i < 2; ++i) {
        latchB();
        manager_.onResponse(bInvite_, response(503));
    }
    EXPECT_EQ(invitedHosts().size(), 2u);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 503);
    EXPECT_EQ(onlyCdr().endReason, "all_gateways_failed");
}

TEST_F(FailoverTest, EveryAddressOfAMultiAddressGatewayIsATargetWithItsOwnHealth)
{
    Provisioning p;
    p.gateways.push_back(gw("orig", GatewayRole::Origination, "192.0.2.10", 0));
    p.gateways.push_back(gw("pool", GatewayRole::Termination, "pool.test"));
    p.routes.push_back({1, "1", "pool", 10, 100, {}});
    manager_.setRoutingTable(ss::routing::RoutingTable::build(p, [](const std::string& host) {
        return host == "pool.test" ? std::vector<std::string>{"10.9.0.1", "10.9.0.2"}
                                   : std::vector<std::string>{host};
    }));
    startCall();
    latchB();
    manager_.onResponse(bInvite_, internal(503));
    answerLatest();
    EXPECT_EQ(invitedHosts(), (Strings{"10.9.0.1:5060", "10.9.0.2:5060"}));
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).back().request.requestUri,
              "sip:15551234@10.9.0.2:5060");
    hangUp();
    EXPECT_EQ(onlyCdr().attempts.at(1).addr, "10.9.0.2:5060");
}

TEST_F(FailoverTest, ATerminationGatewayAtCapacityIsSkippedNotFailed)
{
    provision([this](Provisioning& p) { find(p, "t1").capacity = 1; });
    startCall();
    const auto firstCall = aInvite_;
    answerLatest();  // holds t1's only unit
    startCall();
    EXPECT_EQ(invitedHosts(), (Strings{"198.51.100.1:5060", "198.51.100.2:5060"}));
    answerLatest();
    EXPECT_EQ(manager_.load().active("t1"), 1);
    hangUp();  // the second call
    EXPECT_EQ(outcomes(cdrs_.at(0)), (Strings{"t1/skipped/0", "t2/answered/200"}));
    EXPECT_EQ(manager_.load().active("t2"), 0);
    (void)firstCall;
}

TEST_F(FailoverTest, AFailedAttemptGivesItsCapacityBack)
{
    provision([this](Provisioning& p) { find(p, "t1").capacity = 1; });
    startCall();
    latchB();
    manager_.onResponse(bInvite_, response(503));
    EXPECT_EQ(manager_.load().active("t1"), 0);
    EXPECT_EQ(manager_.load().active("t2"), 1);
}

TEST_F(FailoverTest, AnOriginationGatewayOverItsLimitsGets503)
{
    provision([this](Provisioning& p) {
        find(p, "orig").capacity = 1;
        find(p, "orig").cps = 2;
    });
    startCall();  // holds the one unit
    startCall();
    EXPECT_EQ(stack_.lastStatus(aInvite_), 503);
    EXPECT_EQ(cdrs_.back().endReason, "capacity_limit");
    EXPECT_EQ(cdrs_.back().endDirection, EndDirection::Switch);
    EXPECT_EQ(cdrs_.back().attempts.size(), 0u);
    EXPECT_EQ(manager_.load().active("orig"), 1);

    provision([this](Provisioning& p) { find(p, "orig").cps = 1; });
    clock_.advance(2s);
    startCall();  // admitted (capacity is off now)
    startCall();  // the second within one second
    EXPECT_EQ(cdrs_.back().endReason, "cps_limit");
    EXPECT_EQ(stack_.lastStatus(aInvite_), 503);
}

TEST_F(FailoverTest, ConnErrRetryResendsToTheRetryDestinationAndRelaysTheFirstSuccess)
{
    provision([this](Provisioning& p) {
        auto& t1 = find(p, "t1");
        t1.transport = Transport::Tcp;
        t1.options = {{"retrydest-on-conerr", "198.51.100.7:5070"},
                      {"connerr-retry-timeout", "500"},
                      {"connerr-max-retries", "3"}};
    });
    startCall();
    latchB();
    manager_.onResponse(bInvite_, internal(503));  // connection refused
    EXPECT_EQ(invitedHosts().size(), 1u);          // no failover: retry mode
    timers_.advance(499ms);
    EXPECT_EQ(invitedHosts().size(), 1u);
    timers_.advance(1ms);
    ASSERT_EQ(invitedHosts(), (Strings{"198.51.100.1:5060", "198.51.100.7:5070"}));
    latchB();
    manager_.onResponse(bInvite_, internal(503));  // still refused
    timers_.advance(500ms);
    ASSERT_EQ(invitedHosts().size(), 3u);
    answerLatest();
    EXPECT_EQ(stack_.lastStatus(aInvite_), 200);
    timers_.advance(60s);  // Timer F no longer applies once connected
    hangUp();
    EXPECT_EQ(outcomes(onlyCdr()), (Strings{"t1/transport_error/0", "t1/transport_error/0",
                                            "t1/answered/200"}));
    EXPECT_EQ(onlyCdr().attempts[2].addr, "198.51.100.7:5070");
    EXPECT_EQ(onlyCdr().endReason, "caller_bye");
}

TEST_F(FailoverTest, ConnErrRetryEndsIn408AtTimerF)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "0.1"}});  // T1 100 ms: Timer F 6.4 s
    provision([this](Provisioning& p) {
        auto& t1 = find(p, "t1");
        t1.transport = Transport::Tcp;
        t1.options = {{"retrydest-on-conerr", "198.51.100.7"},
                      {"connerr-retry-timeout", "500"},
                      {"connerr-max-retries", "100"}};
    });
    startCall();
    for (int i = 0; i < 20 && cdrs_.empty(); ++i) {
        latchB();
        manager_.onResponse(bInvite_, internal(503));
        timers_.advance(500ms);
    }
    ASSERT_EQ(cdrs_.size(), 1u);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 408);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "transport_error");
    EXPECT_EQ(cdr.sipCode, 408);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(cdr.endAt - cdr.setupAt),
              6400ms);
    const auto hosts = invitedHosts();
    EXPECT_EQ(hosts.back(), "198.51.100.7:5060");  // the port defaults to 5060
    EXPECT_EQ(std::count(hosts.begin(), hosts.end(), "198.51.100.2:5060"), 0);  // no failover
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(FailoverTest, ConnErrRetriesUsedUpFailOverToTheNextGateway)
{
    provision([this](Provisioning& p) {
        auto& t1 = find(p, "t1");
        t1.transport = Transport::Tcp;
        t1.options = {{"retrydest-on-conerr", "198.51.100.7:5060"},
                      {"connerr-retry-timeout", "100"},
                      {"connerr-max-retries", "2"}};
    });
    startCall();
    for (int i = 0; i < 3; ++i) {
        latchB();
        manager_.onResponse(bInvite_, internal(503));
        timers_.advance(100ms);
    }
    EXPECT_EQ(invitedHosts(), (Strings{"198.51.100.1:5060", "198.51.100.7:5060",
                                       "198.51.100.7:5060", "198.51.100.2:5060"}));
}

TEST_F(FailoverTest, ConnErrRetryNeedsTcpAndMoreThanOneRetry)
{
    provision([this](Provisioning& p) {
        find(p, "t1").options = {{"retrydest-on-conerr", "198.51.100.7"},
                                 {"connerr-max-retries", "5"}};  // UDP: not applicable
        auto& t2 = find(p, "t2");
        t2.transport = Transport::Tcp;
        t2.options = {{"retrydest-on-conerr", "198.51.100.8"}, {"connerr-max-retries", "1"}};
    });
    startCall();
    latchB();
    manager_.onResponse(bInvite_, internal(503));
    latchB();
    manager_.onResponse(bInvite_, internal(503));
    EXPECT_EQ(invitedHosts(), (Strings{"198.51.100.1:5060", "198.51.100.2:5060",
                                       "198.51.100.3:5060"}));
}

TEST_F(FailoverTest, CancelWhileWaitingForAConnErrRetryEndsTheCall)
{
    provision([this](Provisioning& p) {
        auto& t1 = find(p, "t1");
        t1.transport = Transport::Tcp;
        t1.options = {{"retrydest-on-conerr", "198.51.100.7"}, {"connerr-max-retries", "3"}};
    });
    startCall();
    latchB();
    manager_.onResponse(bInvite_, internal(503));
    manager_.onCancel(aInvite_);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 487);
    EXPECT_EQ(manager_.activeCalls(), 0u);
    timers_.advance(10s);
    EXPECT_EQ(invitedHosts().size(), 1u);
    EXPECT_TRUE(stack_.allReleased());
}

namespace {

class ReinviteRetryTest : public FailoverTest {
protected:
    /// A confirmed call, then a re-INVITE from the caller relayed to the callee.
    ss::sig::ClientTxnId reinviteFromCaller()
    {
        provision();
        answerCall();
        reinvite_ = stack_.newServerTxn();
        manager_.onDialogRequest(aDialog(), reinvite_, request("INVITE", kSdp2));
        return stack_.lastSend("INVITE")->txn;
    }

    static SipResponse transportError503()
    {
        auto r = response(503);
        r.transportErrorInfo = true;
        return r;
    }

    std::size_t reinvitesSent() const
    {
        std::size_t n = 0;
        for (const auto& c : stack_.ofKind(Kind::SendInDialog)) {
            n += c.method == "INVITE" ? 1 : 0;
        }
        return n;
    }

    ss::sig::ServerTxnId reinvite_ = 0;
};

}  // namespace

TEST_F(ReinviteRetryTest, A503WithTransportErrorInfoIsResentAfterTheWait)
{
    setParams({{"SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR", "500"}});
    const auto first = reinviteFromCaller();
    manager_.onResponse(first, transportError503());
    EXPECT_EQ(stack_.lastStatus(reinvite_), 0);  // the caller hears nothing yet
    timers_.advance(499ms);
    EXPECT_EQ(reinvitesSent(), 1u);
    timers_.advance(1ms);
    ASSERT_EQ(reinvitesSent(), 2u);
    const auto second = stack_.lastSend("INVITE");
    EXPECT_EQ(second->body, kSdp2);
    EXPECT_EQ(second->dialog, bDialog_);
    manager_.onResponse(second->txn, response(200, kSdp2));
    EXPECT_EQ(stack_.lastStatus(reinvite_), 200);
    EXPECT_TRUE(cdrs_.empty());  // the call goes on
}

TEST_F(ReinviteRetryTest, ResendingStopsAtTheInviteRetryTimeoutAndEndsTheCall)
{
    setParams({{"SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR", "1000"},
               {"SS_SIP_INVITE_RETRY_TIMEOUT", "3"}});
    auto txn = reinviteFromCaller();
    for (int i = 0; i < 10 && cdrs_.empty(); ++i) {
        manager_.onResponse(txn, transportError503());
        timers_.advance(1s);
        txn = stack_.lastSend("INVITE")->txn;
    }
    EXPECT_EQ(reinvitesSent(), 4u);  // at 0, 1, 2 and 3 s; a fourth wait would pass 3 s
    EXPECT_EQ(stack_.lastStatus(reinvite_), 503);
    EXPECT_EQ(onlyCdr().endDirection, EndDirection::Switch);
    EXPECT_EQ(onlyCdr().endReason, "transport_error");
}

TEST_F(ReinviteRetryTest, ZeroWaitEndsTheCallAtOnce)
{
    const auto first = reinviteFromCaller();
    manager_.onResponse(first, transportError503());
    EXPECT_EQ(onlyCdr().endReason, "transport_error");
    EXPECT_EQ(onlyCdr().disposition, "send_bye");
    std::size_t byes = 0;
    for (const auto& c : stack_.ofKind(Kind::SendInDialog)) {
        byes += c.method == "BYE" ? 1 : 0;
    }
    EXPECT_EQ(byes, 2u);
}

TEST_F(ReinviteRetryTest, APlain503IsRelayedAndTheCallGoesOn)
{
    setParams({{"SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR", "500"}});
    const auto first = reinviteFromCaller();
    manager_.onResponse(first, response(503));
    EXPECT_EQ(stack_.lastStatus(reinvite_), 503);
    EXPECT_TRUE(cdrs_.empty());
}

TEST_F(FailoverTest, OptionsProbesTakeADeadAddressOutAndBringItBack)
{
    provision([this](Provisioning& p) { find(p, "t1").options = {{"options-ping", "1"}}; });
    auto probes = [&] { return stack_.ofKind(Kind::SendRequest); };
    ASSERT_EQ(probes().size(), 1u);  // the first probe goes out at once
    EXPECT_EQ(probes()[0].method, "OPTIONS");
    EXPECT_EQ(probes()[0].target.host, "198.51.100.1");
    timers_.advance(1s);  // unanswered for a period: failure 1
    manager_.onResponse(probes().back().txn, internal(408));  // failure 2
    timers_.advance(1s);
    timers_.advance(1s);  // failure 3: down
    startCall();
    EXPECT_EQ(invitedHosts(), (Strings{"198.51.100.2:5060"}));
    EXPECT_EQ(manager_.health().state("198.51.100.1:5060", clock_.monotonicNow()),
              ss::routing::HealthState::ProbeDown);
    manager_.onResponse(probes().back().txn, response(404));  // any answer: up again
    EXPECT_EQ(manager_.health().state("198.51.100.1:5060", clock_.monotonicNow()),
              ss::routing::HealthState::Up);
}
