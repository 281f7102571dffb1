// SPDX-License-Identifier: Apache-2.0
// The call layer driven through SipEvents with a recording stack, a manual clock and virtual
// timers: no sockets, no sleeping.
#include "tests/unit/switch/call_fixture.h"

#include <algorithm>

using namespace std::chrono_literals;
using ss::cdr::CdrRecord;
using ss::cdr::EndDirection;
using ss::sig::SipRequest;
using ss::sig::SipResponse;
using Kind = ss::testing::FakeSipStack::Kind;
using ss::testing::CallManagerTest;
using ss::testing::TimerTest;
using ss::testing::kSdp;
using ss::testing::kSdp2;


TEST_F(CallManagerTest, UnknownSourceGets403AndLeavesNothingBehind)
{
    startCall("15551234", "203.0.113.99");
    EXPECT_EQ(stack_.lastStatus(aInvite_), 403);
    EXPECT_TRUE(stack_.ofKind(Kind::StartDialog).empty());
    EXPECT_TRUE(cdrs_.empty());
    EXPECT_EQ(manager_.activeCalls(), 0u);
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, NoRouteGets404AndASwitchCdr)
{
    startCall("999");
    EXPECT_EQ(stack_.lastStatus(aInvite_), 404);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "no_route");
    EXPECT_EQ(cdr.disposition, "send_refuse");
    EXPECT_EQ(cdr.sipCode, 404);
    EXPECT_EQ(cdr.attempts.size(), 0u);
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, BLegCarriesNumbersSdpAndIdentityButItsOwnCallId)
{
    startCall();
    const auto b = stack_.ofKind(Kind::StartDialog).back();
    EXPECT_EQ(stack_.lastStatus(aInvite_), 100);
    EXPECT_EQ(b.newDialog.target.host, "198.51.100.1");
    EXPECT_EQ(b.newDialog.to.user, "15551234");
    EXPECT_EQ(b.newDialog.from.user, "2125550000");
    EXPECT_EQ(b.newDialog.from.display, "Alice");
    EXPECT_NE(b.newDialog.callId, "a-leg-call-id");
    EXPECT_EQ(b.body, kSdp);
    ASSERT_EQ(b.request.relayHeaders.size(), 1u);
    EXPECT_EQ(b.request.relayHeaders[0].name, "P-Asserted-Identity");
}

TEST_F(CallManagerTest, CallerHangsUp)
{
    answerCall();
    EXPECT_EQ(stack_.lastStatus(aInvite_), 200);
    const auto acks = stack_.ofKind(Kind::Ack);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].txn, bInvite_);

    clock_.advance(5s);
    const auto bye = stack_.newServerTxn();
    manager_.onDialogRequest(aDialog(), bye, request("BYE"));
    EXPECT_EQ(stack_.lastStatus(bye), 200);
    const auto byeB = stack_.lastSend("BYE");
    ASSERT_TRUE(byeB);
    EXPECT_EQ(byeB->dialog, bDialog_);

    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Caller);
    EXPECT_EQ(cdr.endReason, "caller_bye");
    EXPECT_EQ(cdr.disposition, "recv_bye");
    EXPECT_EQ(cdr.sipCode, 200);
    EXPECT_EQ(cdr.pddMs(), 300);
    EXPECT_EQ(cdr.holdMs(), 5000);
    EXPECT_EQ(cdr.node, "node-a");
    EXPECT_EQ(cdr.callId, "a-leg-call-id");
    EXPECT_EQ(cdr.originGateway, "orig");
    EXPECT_EQ(cdr.termGateway, "t1");
    ASSERT_EQ(cdr.attempts.size(), 1u);
    EXPECT_EQ(cdr.attempts[0].outcome, "answered");
    EXPECT_EQ(cdr.attempts[0].sipCode, 200);

    manager_.onResponse(byeB->txn, response(200));
    EXPECT_EQ(manager_.activeCalls(), 0u);
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, TheLiveViewShowsEachCallItsLegsAndTimersAndTheCounters)
{
    startCall();
    auto live = manager_.liveState();
    ASSERT_EQ(live.calls.size(), 1u);
    EXPECT_EQ(live.node, "node-a");
    EXPECT_EQ(live.calls[0].callId, "a-leg-call-id");
    EXPECT_EQ(live.calls[0].state, "calling");
    EXPECT_EQ(live.calls[0].attempt, 1);
    ASSERT_EQ(live.calls[0].legs.size(), 2u);
    EXPECT_EQ(live.calls[0].legs[0].gateway, "orig");
    EXPECT_EQ(live.calls[0].legs[1].gateway, "t1");
    EXPECT_EQ(live.calls[0].legs[1].addr, "198.51.100.1:5060");
    EXPECT_EQ(live.calls[0].legs[1].state, "calling");
    // TIMEOUT_INVITE (default 10 s) runs from the INVITE.
    ASSERT_EQ(live.calls[0].timers.size(), 1u);
    EXPECT_EQ(live.calls[0].timers[0].name, "timeout_invite");
    EXPECT_EQ(live.calls[0].timers[0].due - live.at, std::chrono::seconds(10));

    clock_.advance(300ms);
    manager_.onResponse(bInvite_, response(180));
    live = manager_.liveState();
    EXPECT_EQ(live.calls[0].state, "early");
    ASSERT_EQ(live.calls[0].timers.size(), 1u);
    EXPECT_EQ(live.calls[0].timers[0].name, "timeout_ringing");
    ASSERT_TRUE(live.calls[0].ringAt);

    clock_.advance(2s);
    manager_.onResponse(bInvite_, response(200, kSdp2));
    manager_.onAck(aInvite_, request("ACK"));
    live = manager_.liveState();
    EXPECT_EQ(live.calls[0].state, "up");
    EXPECT_EQ(live.counters.callsOffered, 1u);
    const auto t1 = std::find_if(live.gateways.begin(), live.gateways.end(),
                                 [](const auto& g) { return g.name == "t1"; });
    ASSERT_NE(t1, live.gateways.end());
    EXPECT_EQ(t1->activeCalls, 1);
    ASSERT_EQ(t1->addresses.size(), 1u);
    EXPECT_EQ(t1->addresses[0].addr, "198.51.100.1:5060");
    EXPECT_EQ(t1->addresses[0].health, "up");

    manager_.onDialogRequest(aDialog(), stack_.newServerTxn(), request("BYE"));
    manager_.onResponse(stack_.lastSend("BYE")->txn, response(200));
    live = manager_.liveState();
    EXPECT_TRUE(live.calls.empty());
    EXPECT_EQ(live.counters.callsAnswered, 1u);
    EXPECT_EQ(live.counters.callsEnded, 1u);
    EXPECT_EQ(live.counters.endReasons.at("caller_bye"), 1u);
    EXPECT_EQ(live.counters.reloads, 1u);  // the fixture's one routing table
    for (const auto& g : live.gateways) {
        if (g.name == "t1") {
            EXPECT_EQ(g.attempts, 1u);
            EXPECT_EQ(g.outcomes.at("answered"), 1u);
            EXPECT_EQ(g.activeCalls, 0);
        }
    }
}

TEST_F(CallManagerTest, CalleeHangsUp)
{
    answerCall();
    clock_.advance(7s);
    const auto bye = stack_.newServerTxn();
    manager_.onDialogRequest(bDialog_, bye, request("BYE"));
    EXPECT_EQ(stack_.lastStatus(bye), 200);
    const auto byeA = stack_.lastSend("BYE");
    ASSERT_TRUE(byeA);
    EXPECT_EQ(byeA->dialog, aDialog());
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Callee);
    EXPECT_EQ(cdr.endReason, "callee_bye");
    EXPECT_EQ(cdr.disposition, "send_bye");
    EXPECT_EQ(cdr.holdMs(), 7000);
    manager_.onResponse(byeA->txn, response(200));
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, CallerCancelsWhileRinging)
{
    startCall();
    manager_.onResponse(bInvite_, response(180));
    clock_.advance(3s);
    manager_.onCancel(aInvite_);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 487);
    ASSERT_EQ(stack_.ofKind(Kind::Cancel).size(), 1u);
    EXPECT_EQ(stack_.ofKind(Kind::Cancel)[0].txn, bInvite_);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Caller);
    EXPECT_EQ(cdr.endReason, "caller_cancel");
    EXPECT_EQ(cdr.disposition, "recv_cancel");
    EXPECT_EQ(cdr.sipCode, 487);
    EXPECT_EQ(cdr.holdMs(), 0);
    ASSERT_EQ(cdr.attempts.size(), 1u);
    EXPECT_EQ(cdr.attempts[0].outcome, "cancelled");

    EXPECT_EQ(manager_.activeCalls(), 1u);  // waits for the callee's 487
    manager_.onResponse(bInvite_, response(487));
    EXPECT_EQ(manager_.activeCalls(), 0u);
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, AnswerCrossingCancelIsAckedAndByed)
{
    startCall();
    manager_.onResponse(bInvite_, response(180));
    manager_.onCancel(aInvite_);
    manager_.onResponse(bInvite_, response(200, kSdp2));
    EXPECT_EQ(stack_.ofKind(Kind::Ack).size(), 1u);
    const auto bye = stack_.lastSend("BYE");
    ASSERT_TRUE(bye);
    EXPECT_EQ(bye->dialog, bDialog_);
    EXPECT_EQ(onlyCdr().endReason, "caller_cancel");
    manager_.onResponse(bye->txn, response(200));
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, CancelledCallIsReleasedWhenTheCalleeNeverAnswers)
{
    startCall();
    manager_.onCancel(aInvite_);
    timers_.advance(31s);
    EXPECT_EQ(manager_.activeCalls(), 1u);
    timers_.advance(2s);
    EXPECT_EQ(manager_.activeCalls(), 0u);
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, BusyIsRelayedWithoutTryingTheNextGateway)
{
    startCall();
    manager_.onResponse(bInvite_, response(486));
    EXPECT_EQ(stack_.lastStatus(aInvite_), 486);
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Callee);
    EXPECT_EQ(cdr.endReason, "callee_rejected");
    EXPECT_EQ(cdr.disposition, "send_refuse");
    EXPECT_EQ(cdr.sipCode, 486);
    EXPECT_EQ(cdr.q850Cause, 17);
    ASSERT_EQ(cdr.attempts.size(), 1u);
    EXPECT_EQ(cdr.attempts[0].outcome, "rejected");
    EXPECT_TRUE(stack_.allReleased());
}

// Overload control: while the receive queues hold a backlog, a new call gets 503 with
// Retry-After at once (no call, no routing, no CDR); calls already up go on; once the backlog
// has stayed small for clearAfter, new calls are taken again.
TEST_F(CallManagerTest, OverloadRefusesNewCallsWith503AndRetryAfterOnly)
{
    ss::sig::ReceiveBacklog backlog;
    manager_.setOverloadProbe([&] { return backlog; }, {100ms, 20ms, 500ms});
    answerCall();  // the one call of the last second: the limit will be the minimum, 10/s
    const auto upCall = aInvite_;

    backlog.oldestWait = 250ms;
    timers_.advance(20ms);
    EXPECT_TRUE(manager_.liveState().counters.overloaded);
    EXPECT_EQ(manager_.liveState().counters.sipReceiveWaitMs, 250);
    const auto startsBefore = stack_.ofKind(Kind::StartDialog).size();
    // The token bucket starts empty: the next new call is refused.
    const auto refused = stack_.newServerTxn();
    manager_.onNewInvite(refused, invite("15551234", "192.0.2.10"));
    EXPECT_EQ(stack_.lastStatus(refused), 503);
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), startsBefore);  // no B leg
    const auto responses = stack_.ofKind(Kind::Respond);
    const auto& headers = responses.back().response.relayHeaders;
    ASSERT_EQ(headers.size(), 1u);
    EXPECT_EQ(headers[0].name, "Retry-After");
    EXPECT_EQ(headers[0].value, "1");
    EXPECT_EQ(manager_.liveState().counters.callsShed, 1u);
    EXPECT_EQ(manager_.liveState().calls.size(), 1u);

    // The call that was up is ended normally and billed; the refused one has no CDR.
    manager_.onDialogRequest(stack_.accepted.at(upCall), stack_.newServerTxn(), request("BYE"));
    EXPECT_EQ(onlyCdr().endReason, "caller_bye");

    backlog.oldestWait = 0ms;
    timers_.advance(1100ms);  // calm for clearAfter, with less offered than the limit
    EXPECT_FALSE(manager_.liveState().counters.overloaded);
    startCall();
    EXPECT_EQ(stack_.lastStatus(aInvite_), 100);
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), startsBefore + 1);
}

TEST_F(CallManagerTest, ServiceUnavailableFailsOverToTheNextGateway)
{
    startCall();
    manager_.onResponse(bInvite_, response(503));
    ASSERT_EQ(stack_.ofKind(Kind::StartDialog).size(), 2u);
    latchB();
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog)[1].newDialog.target.host, "198.51.100.2");
    EXPECT_EQ(stack_.lastStatus(aInvite_), 100);  // the caller has seen nothing final
    manager_.onResponse(bInvite_, response(200, kSdp2));
    manager_.onAck(aInvite_, request("ACK"));
    manager_.onDialogRequest(aDialog(), stack_.newServerTxn(), request("BYE"));
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.termGateway, "t2");
    ASSERT_EQ(cdr.attempts.size(), 2u);
    EXPECT_EQ(cdr.attempts[0].outcome, "rejected");
    EXPECT_EQ(cdr.attempts[0].sipCode, 503);
    EXPECT_EQ(cdr.attempts[1].outcome, "answered");
}

TEST_F(CallManagerTest, AllGatewaysFailingIsASwitchEndWithTheLastCode)
{
    startCall();
    manager_.onResponse(bInvite_, response(503));
    latchB();
    manager_.onResponse(bInvite_, response(502));
    EXPECT_EQ(stack_.lastStatus(aInvite_), 502);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "all_gateways_failed");
    EXPECT_EQ(cdr.attempts.size(), 2u);
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(CallManagerTest, StackTimeoutsFailOverAndEndWith503WhenNoGatewayAnswered)
{
    startCall();
    manager_.onResponse(bInvite_, response(408, "", true));
    latchB();
    manager_.onResponse(bInvite_, response(503, "", true));
    EXPECT_EQ(stack_.lastStatus(aInvite_), 503);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endReason, "all_gateways_failed");
    ASSERT_EQ(cdr.attempts.size(), 2u);
    EXPECT_EQ(cdr.attempts[0].outcome, "timeout");
    EXPECT_EQ(cdr.attempts[1].outcome, "transport_error");
}

TEST_F(CallManagerTest, ReinviteFromEitherSideIsRelayedWithItsSdpAndAck)
{
    answerCall();
    for (const bool fromCaller : {true, false}) {
        const auto from = fromCaller ? aDialog() : bDialog_;
        const auto to = fromCaller ? bDialog_ : aDialog();
        const auto reinvite = stack_.newServerTxn();
        manager_.onDialogRequest(from, reinvite, request("INVITE", kSdp2));
        const auto out = stack_.lastSend("INVITE");
        ASSERT_TRUE(out);
        EXPECT_EQ(out->dialog, to);
        EXPECT_EQ(out->body, kSdp2);

        manager_.onResponse(out->txn, response(200, kSdp));
        EXPECT_EQ(stack_.lastStatus(reinvite), 200);
        const auto acksBefore = stack_.ofKind(Kind::Ack).size();
        manager_.onAck(reinvite, request("ACK"));
        ASSERT_EQ(stack_.ofKind(Kind::Ack).size(), acksBefore + 1);
        EXPECT_EQ(stack_.ofKind(Kind::Ack).back().dialog, to);
        EXPECT_EQ(stack_.ofKind(Kind::Ack).back().txn, out->txn);
    }
    EXPECT_TRUE(cdrs_.empty());  // the call goes on
}

TEST_F(CallManagerTest, SecondReinviteDuringAPendingOneGets491)
{
    answerCall();
    manager_.onDialogRequest(aDialog(), stack_.newServerTxn(), request("INVITE", kSdp2));
    const auto second = stack_.newServerTxn();
    manager_.onDialogRequest(bDialog_, second, request("INVITE", kSdp));
    EXPECT_EQ(stack_.lastStatus(second), 491);
}

TEST_F(CallManagerTest, UpdateAndInDialogOptions)
{
    answerCall();
    const auto update = stack_.newServerTxn();
    manager_.onDialogRequest(aDialog(), update, request("UPDATE", kSdp2));
    const auto out = stack_.lastSend("UPDATE");
    ASSERT_TRUE(out);
    manager_.onResponse(out->txn, response(200, kSdp));
    EXPECT_EQ(stack_.lastStatus(update), 200);

    const auto options = stack_.newServerTxn();
    manager_.onDialogRequest(bDialog_, options, request("OPTIONS"));
    EXPECT_EQ(stack_.lastStatus(options), 200);
    EXPECT_FALSE(stack_.lastSend("OPTIONS"));  // answered locally, not relayed
}

TEST_F(CallManagerTest, ShutdownEndsAnsweredCallsWithByeOnBothLegs)
{
    answerCall();
    manager_.stopAccepting();
    manager_.terminateAll("shutdown");
    EXPECT_EQ(stack_.ofKind(Kind::SendInDialog).size(), 2u);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "shutdown");

    const auto next = stack_.newServerTxn();
    manager_.onNewInvite(next, invite("15551234", "192.0.2.10"));
    EXPECT_EQ(stack_.lastStatus(next), 503);
}

TEST_F(CallManagerTest, MissingAckForTheAnswerEndsTheCall)
{
    startCall();
    manager_.onResponse(bInvite_, response(200, kSdp2));
    manager_.onAckTimeout(aInvite_);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "ack_timeout");
}

TEST_F(CallManagerTest, RequestsForUnknownDialogsGet481)
{
    const auto txn = stack_.newServerTxn();
    manager_.onDialogRequest(12345, txn, request("BYE"));
    EXPECT_EQ(stack_.lastStatus(txn), 481);
    const auto options = stack_.newServerTxn();
    manager_.onOutOfDialogRequest(options, request("OPTIONS"));
    EXPECT_EQ(stack_.lastStatus(options), 200);
}

TEST_F(CallManagerTest, InviteWithoutADialledNumberGets484)
{
    startCall("");
    EXPECT_EQ(stack_.lastStatus(aInvite_), 484);
    EXPECT_EQ(onlyCdr().endReason, "no_route");
    EXPECT_TRUE(stack_.allReleased());
}

// ---- SS_SIP_* timers (issue 3), in virtual time ----


TEST_F(TimerTest, ResendListOneOneOneSendsCopiesAtOneTwoThreeThenFailsOver)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "1,1,1"}, {"SS_SIP_TIMEOUT_INVITE", "300"}});
    startCall();
    const auto first = bInvite_;
    EXPECT_TRUE(stack_.ofKind(Kind::StartDialog)[0].newDialog.callerRetransmits);
    const auto copies = copiesWithin(3990ms);
    EXPECT_EQ(copies, (std::vector<std::chrono::milliseconds>{1000ms, 2000ms, 3000ms}));
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
    timers_.advance(20ms);  // 4 s: one more wait for an answer to the last copy
    ASSERT_EQ(stack_.ofKind(Kind::StartDialog).size(), 2u);
    EXPECT_TRUE(stack_.ofKind(Kind::Cancel).empty());  // never CANCEL before a provisional
    latchB();
    EXPECT_NE(bInvite_, first);
    // The next gateway starts the list afresh.
    EXPECT_EQ(copiesWithin(1000ms).size(), 1u);
    manager_.onResponse(bInvite_, response(486));
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.attempts[0].outcome, "resend_exhausted");
    EXPECT_EQ(cdr.attempts[0].sipCode, 0);
}

TEST_F(TimerTest, ResendListOfTenFollowsArbitraryShapes)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "0.5,0.5,1,1,2,2,4,4,4,4"},
               {"SS_SIP_TIMEOUT_INVITE", "300"}});
    startCall();
    const auto copies = copiesWithin(23000ms);
    EXPECT_EQ(copies, (std::vector<std::chrono::milliseconds>{500ms, 1000ms, 2000ms, 3000ms,
                                                              5000ms, 7000ms, 11000ms, 15000ms,
                                                              19000ms, 23000ms}));
}

TEST_F(TimerTest, SendRetryBelowTheListLengthUsesOnlyTheFirstWaits)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "1,2,4"}, {"SS_SIP_SEND_RETRY", "2"},
               {"SS_SIP_TIMEOUT_INVITE", "300"}});
    startCall();
    EXPECT_EQ(copiesWithin(6990ms), (std::vector<std::chrono::milliseconds>{1000ms, 3000ms}));
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
    timers_.advance(20ms);  // 3 s + the third wait (4 s)
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 2u);
}

TEST_F(TimerTest, ListOfOneWithRetryZeroFailsAfterTheFirstWait)
{
    setParams({{"SS_SIP_RESEND_INTERVAL", "2"}, {"SS_SIP_SEND_RETRY", "0"},
               {"SS_SIP_TIMEOUT_INVITE", "300"}});
    startCall();
    timers_.advance(1990ms);
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
    timers_.advance(20ms);
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 2u);
    EXPECT_TRUE(stack_.ofKind(Kind::Retransmit).empty());
}

TEST_F(TimerTest, TimeoutInviteWinsWhenEarlierThanTheList)
{
    setParams({{"SS_SIP_TIMEOUT_INVITE", "10"}});  // default list: 31.5 s in all
    startCall();
    timers_.advance(9990ms);
    EXPECT_EQ(stack_.ofKind(Kind::Retransmit).size(), 4u);  // 0.5 1.5 3.5 7.5; 11.5 > 10
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
    timers_.advance(20ms);
    ASSERT_EQ(stack_.ofKind(Kind::StartDialog).size(), 2u);
    latchB();
    manager_.onResponse(bInvite_, response(486));
    EXPECT_EQ(onlyCdr().attempts[0].outcome, "timeout_invite");
}

TEST_F(TimerTest, AProvisionalStopsResendingAndTryingTimeoutCancelsAndFailsOver)
{
    setParams({{"SS_SIP_TIMEOUT_TRYING", "5"}});
    startCall();
    timers_.advance(600ms);
    EXPECT_EQ(stack_.ofKind(Kind::Retransmit).size(), 1u);
    manager_.onResponse(bInvite_, response(100));
    timers_.advance(4900ms);
    EXPECT_EQ(stack_.ofKind(Kind::Retransmit).size(), 1u);  // no more copies after the 100
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
    timers_.advance(200ms);  // 5 s after the 100
    ASSERT_EQ(stack_.ofKind(Kind::Cancel).size(), 1u);
    ASSERT_EQ(stack_.ofKind(Kind::StartDialog).size(), 2u);
    latchB();
    manager_.onResponse(bInvite_, response(486));
    EXPECT_EQ(onlyCdr().attempts[0].outcome, "timeout_trying");
}

TEST_F(TimerTest, RingingTimeoutCancelsTheCalleeAndEndsTheCallWith480)
{
    setParams({{"SS_SIP_TIMEOUT_RINGING", "30"}});
    startCall();
    manager_.onResponse(bInvite_, response(100));
    clock_.advance(1s);
    manager_.onResponse(bInvite_, response(180));
    timers_.advance(29900ms);
    EXPECT_TRUE(cdrs_.empty());
    timers_.advance(200ms);
    EXPECT_EQ(stack_.ofKind(Kind::Cancel).size(), 1u);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 480);
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);  // no failover after ringing
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "timeout_ringing");
    EXPECT_EQ(cdr.attempts[0].outcome, "timeout_ringing");
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(TimerTest, EarlyHangupEndsAnUnansweredCall)
{
    setParams({{"SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP", "15"}});
    startCall();
    manager_.onResponse(bInvite_, response(183, kSdp2));
    timers_.advance(14900ms);
    EXPECT_TRUE(cdrs_.empty());
    timers_.advance(200ms);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 480);
    EXPECT_EQ(stack_.ofKind(Kind::Cancel).size(), 1u);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "early_hangup");
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(TimerTest, EarlyHangupRacingAnAnswerLosesToTheAnswer)
{
    setParams({{"SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP", "15"}});
    startCall();
    manager_.onResponse(bInvite_, response(180));
    timers_.advance(14999ms);
    manager_.onResponse(bInvite_, response(200, kSdp2));
    timers_.advance(10s);
    EXPECT_TRUE(cdrs_.empty());
    EXPECT_EQ(stack_.lastStatus(aInvite_), 200);
    EXPECT_TRUE(stack_.ofKind(Kind::Cancel).empty());
}

TEST_F(TimerTest, ParameterChangesApplyToNewCallsOnly)
{
    setParams({{"SS_SIP_TIMEOUT_RINGING", "30"}});
    startCall();
    manager_.onResponse(bInvite_, response(180));
    setParams({{"SS_SIP_TIMEOUT_RINGING", "5"}});
    timers_.advance(10s);
    EXPECT_TRUE(cdrs_.empty());  // still on its own 30 s
    timers_.advance(21s);
    EXPECT_EQ(onlyCdr().endReason, "timeout_ringing");
}

TEST_F(TimerTest, TcpGatewaysGetNoRetransmissions)
{
    ss::common::Provisioning p;
    p.gateways.push_back(gw("orig", ss::common::GatewayRole::Origination, "192.0.2.10", 0));
    auto t = gw("tcp", ss::common::GatewayRole::Termination, "198.51.100.9");
    t.transport = ss::common::Transport::Tcp;
    p.gateways.push_back(t);
    p.routes.push_back({1, "", "tcp", 10, 100, {}});
    manager_.setRoutingTable(ss::routing::RoutingTable::build(p));
    startCall();
    EXPECT_FALSE(stack_.ofKind(Kind::StartDialog)[0].newDialog.callerRetransmits);
    timers_.advance(9s);
    EXPECT_TRUE(stack_.ofKind(Kind::Retransmit).empty());
}

// ---- RFC 4028 session timers and the no-timer keep-alive (issue 3), in virtual time ----

namespace {

class SessionTest : public TimerTest {
protected:
    /// Answers a call whose caller and callee carry the given session-timer fields.
    void answerWith(const ss::sig::SessionTimerFields& callerTimer,
                    const ss::sig::SessionTimerFields& calleeTimer)
    {
        aInvite_ = stack_.newServerTxn();
        auto req = invite("15551234", "192.0.2.10");
        req.timer = callerTimer;
        manager_.onNewInvite(aInvite_, req);
        latchB();
        auto ok = response(200, kSdp2);
        ok.timer = calleeTimer;
        manager_.onResponse(bInvite_, ok);
        manager_.onAck(aInvite_, request("ACK"));
    }

    static ss::sig::SessionTimerFields timer(std::uint32_t se, const std::string& refresher,
                                             bool supports = true)
    {
        ss::sig::SessionTimerFields t;
        t.sessionExpires = se;
        t.refresher = refresher;
        t.supportsTimer = supports;
        return t;
    }

    /// In-dialog requests sent on `dialog` with `method`, in order.
    std::vector<ss::testing::FakeSipStack::Command> sentOn(ss::sig::DialogId dialog,
                                                           const std::string& method) const
    {
        std::vector<ss::testing::FakeSipStack::Command> out;
        for (const auto& c : stack_.ofKind(Kind::SendInDialog)) {
            if (c.dialog == dialog && c.method == method) {
                out.push_back(c);
            }
        }
        return out;
    }
};

}  // namespace

TEST_F(SessionTest, OffersTheTtlToTheCalleeAndAnswersTheCallerWithItsAgreement)
{
    setParams({{"SS_SIP_SESSION_TTL", "1800"}});
    aInvite_ = stack_.newServerTxn();
    auto req = invite("15551234", "192.0.2.10");
    req.timer = timer(3600, "", true);
    manager_.onNewInvite(aInvite_, req);
    latchB();
    const auto offer = stack_.ofKind(Kind::StartDialog).back().request.timer;
    EXPECT_EQ(offer.sessionExpires, 1800u);
    EXPECT_EQ(offer.minSe, 90u);
    manager_.onResponse(bInvite_, response(200, kSdp2));
    // The caller asked for 3600 s; the switch lowers it to its TTL and lets the caller refresh.
    EXPECT_EQ(stack_.lastStatus(aInvite_), 200);
}

TEST_F(SessionTest, SegmentTwoRefreshesAtHalfTheIntervalWithTheSameSdp)
{
    setParams({{"SS_SIP_SESSION_UPDATE_SEGMENT", "2"}});
    answerWith(timer(0, "", false), timer(90, "uac", false));
    timers_.advance(44900ms);
    EXPECT_TRUE(sentOn(bDialog_, "INVITE").empty());
    timers_.advance(200ms);
    auto refreshes = sentOn(bDialog_, "INVITE");
    ASSERT_EQ(refreshes.size(), 1u);
    EXPECT_EQ(refreshes[0].body, kSdp);  // what the callee already has
    EXPECT_EQ(refreshes[0].request.timer.sessionExpires, 90u);
    EXPECT_EQ(refreshes[0].request.timer.refresher, "uac");
    EXPECT_TRUE(sentOn(aDialog(), "INVITE").empty());  // the caller sees nothing

    auto ok = response(200, kSdp2);
    ok.timer = timer(90, "uac", false);
    manager_.onResponse(refreshes[0].txn, ok);
    EXPECT_EQ(stack_.ofKind(Kind::Ack).back().txn, refreshes[0].txn);
    timers_.advance(45s);
    EXPECT_EQ(sentOn(bDialog_, "INVITE").size(), 2u);
    EXPECT_TRUE(cdrs_.empty());
}

TEST_F(SessionTest, EveryUpdateSegmentRefreshesAtOneMinusOneOverSegment)
{
    for (int segment = 2; segment <= 10; ++segment) {
        cdrs_.clear();
        setParams({{"SS_SIP_SESSION_UPDATE_SEGMENT", std::to_string(segment)}});
        answerWith(timer(0, "", false), timer(1000, "uac", false));
        const auto refreshAt = std::chrono::milliseconds(1000000 - 1000000 / segment);
        timers_.advance(refreshAt - 10ms);
        EXPECT_TRUE(sentOn(bDialog_, "INVITE").empty()) << segment;
        timers_.advance(20ms);
        EXPECT_EQ(sentOn(bDialog_, "INVITE").size(), 1u) << segment;
        manager_.terminateAll("shutdown");
    }
}

TEST_F(SessionTest, UpdateIsUsedWhenTheCalleeAllowsIt)
{
    setParams({{"SS_SIP_SESSION_UPDATE_SEGMENT", "2"}});
    auto callee = timer(120, "uac", false);
    callee.allowsUpdate = true;
    answerWith(timer(0, "", false), callee);
    timers_.advance(61s);
    const auto updates = sentOn(bDialog_, "UPDATE");
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_TRUE(updates[0].body.empty());
    EXPECT_TRUE(sentOn(bDialog_, "INVITE").empty());
}

TEST_F(SessionTest, CallEndsWhenThePeerRefresherNeverRefreshes)
{
    // The caller is the refresher of a 90 s session: the switch gives up 30 s before the end.
    answerWith(timer(90, "uac", true), timer(0, "", false));
    timers_.advance(59900ms);
    EXPECT_TRUE(cdrs_.empty());
    timers_.advance(200ms);
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "session_expired");
    EXPECT_EQ(cdr.disposition, "send_bye");
    EXPECT_EQ(sentOn(aDialog(), "BYE").size(), 1u);
    EXPECT_EQ(sentOn(bDialog_, "BYE").size(), 1u);
}

TEST_F(SessionTest, ARefreshWithUnchangedSdpIsAnsweredLocallyAndNotRelayed)
{
    answerWith(timer(90, "uac", true), timer(0, "", false));
    timers_.advance(40s);
    const auto refresh = stack_.newServerTxn();
    auto req = request("INVITE", kSdp);  // the caller's SDP, unchanged
    req.timer = timer(90, "uac", true);
    manager_.onDialogRequest(aDialog(), refresh, req);
    EXPECT_EQ(stack_.lastStatus(refresh), 200);
    EXPECT_TRUE(sentOn(bDialog_, "INVITE").empty());
    const auto answered = stack_.ofKind(Kind::Respond).back();
    EXPECT_EQ(answered.body, kSdp2);  // what the caller was already given
    timers_.advance(40s);  // 80 s after answer, but only 40 s after the refresh
    EXPECT_TRUE(cdrs_.empty());
    timers_.advance(21s);
    EXPECT_EQ(onlyCdr().endReason, "session_expired");
}

TEST_F(SessionTest, ARefreshWithNewSdpIsRelayedAsAnOffer)
{
    answerWith(timer(90, "uac", true), timer(0, "", false));
    const auto refresh = stack_.newServerTxn();
    constexpr const char* kNew = "v=0\r\no=- 1 3 IN IP4 192.0.2.10\r\ns=-\r\n";
    manager_.onDialogRequest(aDialog(), refresh, request("INVITE", kNew));
    const auto out = sentOn(bDialog_, "INVITE");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body, kNew);
}

TEST_F(SessionTest, CallerAskingForLessThanNinetySecondsGets422AndNoCdr)
{
    aInvite_ = stack_.newServerTxn();
    auto req = invite("15551234", "192.0.2.10");
    req.timer = timer(30, "", true);
    manager_.onNewInvite(aInvite_, req);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 422);
    EXPECT_TRUE(stack_.ofKind(Kind::StartDialog).empty());
    EXPECT_TRUE(cdrs_.empty());
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(SessionTest, CalleeDemandingALongerIntervalIsAskedAgainWithItsMinSe)
{
    setParams({{"SS_SIP_SESSION_TTL", "90"}});
    startCall();
    auto tooSmall = response(422);
    tooSmall.timer.minSe = 600;
    manager_.onResponse(bInvite_, tooSmall);
    const auto starts = stack_.ofKind(Kind::StartDialog);
    ASSERT_EQ(starts.size(), 2u);
    EXPECT_EQ(starts[1].newDialog.target.host, starts[0].newDialog.target.host);  // same gateway
    EXPECT_EQ(starts[1].request.timer.sessionExpires, 600u);
    EXPECT_EQ(starts[1].request.timer.minSe, 600u);
}

TEST_F(SessionTest, KeepAliveReinviteForLegsWithoutTimersKeepsGoingWhileAnswered)
{
    setParams({{"SS_SIP_NO_TIMER_REINVITE_INTERVAL", "60"}});
    answerWith(timer(0, "", false), timer(0, "", false));
    timers_.advance(59900ms);
    EXPECT_TRUE(sentOn(aDialog(), "INVITE").empty());
    timers_.advance(200ms);
    auto toA = sentOn(aDialog(), "INVITE");
    auto toB = sentOn(bDialog_, "INVITE");
    ASSERT_EQ(toA.size(), 1u);
    ASSERT_EQ(toB.size(), 1u);
    EXPECT_EQ(toA[0].body, kSdp2);  // each leg gets the SDP it already has
    EXPECT_EQ(toB[0].body, kSdp);
    EXPECT_EQ(toA[0].request.timer.sessionExpires, 0u);  // not a session-timer refresh
    manager_.onResponse(toA[0].txn, response(200, kSdp));
    manager_.onResponse(toB[0].txn, response(488));  // any final answer: the peer is alive
    timers_.advance(60s);
    EXPECT_EQ(sentOn(aDialog(), "INVITE").size(), 2u);
    EXPECT_EQ(sentOn(bDialog_, "INVITE").size(), 2u);
    EXPECT_TRUE(cdrs_.empty());
}

TEST_F(SessionTest, KeepAliveUnansweredEndsBothLegs)
{
    setParams({{"SS_SIP_NO_TIMER_REINVITE_INTERVAL", "60"}});
    answerWith(timer(0, "", false), timer(0, "", false));
    timers_.advance(61s);
    const auto toB = sentOn(bDialog_, "INVITE");
    ASSERT_EQ(toB.size(), 1u);
    manager_.onResponse(toB[0].txn, response(408, "", true));  // the stack's own timeout
    const auto& cdr = onlyCdr();
    EXPECT_EQ(cdr.endDirection, EndDirection::Switch);
    EXPECT_EQ(cdr.endReason, "no_timer_reinvite_failed");
    EXPECT_EQ(sentOn(aDialog(), "BYE").size(), 1u);
    EXPECT_EQ(sentOn(bDialog_, "BYE").size(), 1u);
}

TEST_F(SessionTest, KeepAliveAnswered481EndsTheCall)
{
    setParams({{"SS_SIP_NO_TIMER_REINVITE_INTERVAL", "60"}});
    answerWith(timer(0, "", false), timer(0, "", false));
    timers_.advance(61s);
    manager_.onResponse(sentOn(aDialog(), "INVITE")[0].txn, response(481));
    EXPECT_EQ(onlyCdr().endReason, "no_timer_reinvite_failed");
}

TEST_F(SessionTest, KeepAliveOffMeansNothingIsSent)
{
    setParams({{"SS_SIP_NO_TIMER_REINVITE_INTERVAL", "0"}});
    answerWith(timer(0, "", false), timer(0, "", false));
    timers_.advance(std::chrono::hours(10));
    EXPECT_TRUE(stack_.ofKind(Kind::SendInDialog).empty());
}

// ---- SS_SIP_PUBLISH_EXPIRE heartbeats (issue 3) ----

namespace {

class PublishTest : public TimerTest {
protected:
    /// Sends a PUBLISH from `ip` and returns the response.
    ss::sig::SipResponse publish(const std::string& ip, std::int64_t expires,
                                 const std::string& ifMatch = "", bool withBody = true)
    {
        SipRequest req = request("PUBLISH");
        req.sourceIp = ip;
        req.event = "presence";
        req.expires = expires;
        req.sipIfMatch = ifMatch;
        if (withBody) {
            req.contentType = "application/pidf+xml";
            req.body = "<presence/>";
        }
        const auto txn = stack_.newServerTxn();
        manager_.onOutOfDialogRequest(txn, req);
        return stack_.ofKind(Kind::Respond).back().response;
    }

    static std::string header(const ss::sig::SipResponse& r, const std::string& name)
    {
        for (const auto& h : r.relayHeaders) {
            if (h.name == name) {
                return h.value;
            }
        }
        return {};
    }

    /// The gateway host the next call is sent to first.
    std::string nextCallTarget()
    {
        startCall();
        const auto host = stack_.ofKind(Kind::StartDialog).back().newDialog.target.host;
        manager_.onCancel(aInvite_);
        manager_.onResponse(bInvite_, response(487));
        return host;
    }
};

}  // namespace

TEST_F(PublishTest, UnknownAddressesGet403AndOriginationGatewaysCannotPublish)
{
    EXPECT_EQ(publish("203.0.113.50", 60).status, 403);
    EXPECT_EQ(publish("192.0.2.10", 60).status, 403);  // origination only
}

TEST_F(PublishTest, InitialPublicationGetsAnEtagAndAnExpiresCappedByTheParameter)
{
    setParams({{"SS_SIP_PUBLISH_EXPIRE", "600"}});
    auto r = publish("198.51.100.1", 3600);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(header(r, "SIP-ETag").empty());
    EXPECT_EQ(header(r, "Expires"), "600");
    r = publish("198.51.100.1", 120);
    EXPECT_EQ(header(r, "Expires"), "120");
}

TEST_F(PublishTest, LapsedGatewayLeavesRoutingUntilItPublishesAgain)
{
    EXPECT_EQ(nextCallTarget(), "198.51.100.1");
    auto r = publish("198.51.100.1", 60);
    ASSERT_EQ(r.status, 200);
    timers_.advance(59s);
    EXPECT_EQ(nextCallTarget(), "198.51.100.1");
    timers_.advance(2s);  // lapsed, unrenewed
    EXPECT_EQ(nextCallTarget(), "198.51.100.2");
    EXPECT_EQ(publish("198.51.100.1", 60).status, 200);
    EXPECT_EQ(nextCallTarget(), "198.51.100.1");
}

TEST_F(PublishTest, RefreshByEtagExtendsAndRemovalWithdraws)
{
    auto r = publish("198.51.100.1", 60);
    const auto etag = header(r, "SIP-ETag");
    timers_.advance(50s);
    r = publish("198.51.100.1", 60, etag, false);
    ASSERT_EQ(r.status, 200);
    const auto etag2 = header(r, "SIP-ETag");
    EXPECT_NE(etag2, etag);  // RFC 3903 §6: a new entity tag per refresh
    timers_.advance(50s);    // 100 s after the first, 50 after the refresh
    EXPECT_EQ(nextCallTarget(), "198.51.100.1");
    EXPECT_EQ(publish("198.51.100.1", 60, etag, false).status, 412);  // stale tag
    EXPECT_EQ(publish("198.51.100.1", 0, etag2, false).status, 200);
    EXPECT_EQ(nextCallTarget(), "198.51.100.2");
}

TEST_F(PublishTest, MalformedPublicationsAreRefused)
{
    SipRequest noEvent = request("PUBLISH");
    noEvent.sourceIp = "198.51.100.1";
    noEvent.body = "x";
    const auto txn = stack_.newServerTxn();
    manager_.onOutOfDialogRequest(txn, noEvent);
    EXPECT_EQ(stack_.lastStatus(txn), 489);
    EXPECT_EQ(publish("198.51.100.1", 60, "", false).status, 400);      // initial without body
    EXPECT_EQ(publish("198.51.100.1", 60, "nosuchtag", false).status, 412);
    EXPECT_EQ(nextCallTarget(), "198.51.100.1");  // never published: unaffected
}

TEST_F(CallManagerTest, AProvisionalAfterTheAnswerIsIgnored)
{
    answerCall();
    const auto responses = stack_.ofKind(Kind::Respond).size();
    manager_.onResponse(bInvite_, response(183, kSdp));
    EXPECT_EQ(stack_.ofKind(Kind::Respond).size(), responses);
    const auto bye = stack_.newServerTxn();
    manager_.onDialogRequest(aDialog(), bye, request("BYE"));
    EXPECT_EQ(onlyCdr().endReason, "caller_bye");  // still a confirmed call
}

// ---- SS_SIP_ENABLE_100REL (issue 3) ----

TEST_F(TimerTest, ReliableProvisionalsGoToACallerThatSupports100relWhenEnabled)
{
    setParams({{"SS_SIP_ENABLE_100REL", "on"}});
    aInvite_ = stack_.newServerTxn();
    auto req = invite("15551234", "192.0.2.10");
    req.supports100rel = true;
    manager_.onNewInvite(aInvite_, req);
    latchB();
    EXPECT_TRUE(stack_.ofKind(Kind::StartDialog).back().newDialog.offer100rel);
    manager_.onResponse(bInvite_, response(183, kSdp2));
    const auto early = stack_.ofKind(Kind::Respond).back();
    EXPECT_EQ(early.status, 183);
    EXPECT_TRUE(early.response.reliable);
    EXPECT_EQ(early.body, kSdp2);  // early media SDP relayed
}

TEST_F(TimerTest, ProvisionalsStayUnreliableWhenDisabledOrUnsupported)
{
    startCall();  // 100rel off by default, caller does not support it
    EXPECT_FALSE(stack_.ofKind(Kind::StartDialog).back().newDialog.offer100rel);
    manager_.onResponse(bInvite_, response(180));
    EXPECT_FALSE(stack_.ofKind(Kind::Respond).back().response.reliable);
}

TEST_F(TimerTest, CallerRequiring100relWhileItIsOffGets420AndNoCdr)
{
    aInvite_ = stack_.newServerTxn();
    auto req = invite("15551234", "192.0.2.10");
    req.requires100rel = true;
    manager_.onNewInvite(aInvite_, req);
    EXPECT_EQ(stack_.lastStatus(aInvite_), 420);
    EXPECT_TRUE(cdrs_.empty());
    EXPECT_TRUE(stack_.allReleased());
}

TEST_F(TimerTest, PerGatewayOptionOverridesTheGlobalSetting)
{
    setParams({{"SS_SIP_ENABLE_100REL", "on"}});
    ss::common::Provisioning p;
    p.gateways.push_back(gw("orig", ss::common::GatewayRole::Origination, "192.0.2.10", 0));
    auto t = gw("t1", ss::common::GatewayRole::Termination, "198.51.100.1");
    t.options["enable-100rel"] = "off";
    p.gateways.push_back(t);
    p.routes.push_back({1, "", "t1", 10, 100, {}});
    manager_.setRoutingTable(ss::routing::RoutingTable::build(p));
    startCall();
    EXPECT_FALSE(stack_.ofKind(Kind::StartDialog).back().newDialog.offer100rel);
}

TEST_F(PublishTest, GatewaysSharingAnAddressAreToldApartByPort)
{
    ss::common::Provisioning p;
    p.gateways.push_back(gw("orig", ss::common::GatewayRole::Origination, "192.0.2.10", 0));
    p.gateways.push_back(gw("a", ss::common::GatewayRole::Termination, "198.51.100.7", 5070));
    p.gateways.push_back(gw("b", ss::common::GatewayRole::Termination, "198.51.100.7", 5080));
    p.routes.push_back({1, "", "a", 10, 100, {}});
    p.routes.push_back({2, "", "b", 20, 100, {}});
    manager_.setRoutingTable(ss::routing::RoutingTable::build(p));

    SipRequest req = request("PUBLISH");
    req.sourceIp = "198.51.100.7";
    req.sourcePort = 5080;  // gateway b
    req.event = "presence";
    req.expires = 60;
    req.body = "<presence/>";
    manager_.onOutOfDialogRequest(stack_.newServerTxn(), req);
    timers_.advance(61s);  // b's publication lapses; a never published
    startCall();
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).back().newDialog.target.port, 5070);
    manager_.onResponse(bInvite_, response(503));  // a fails: b is out of routing
    EXPECT_EQ(stack_.ofKind(Kind::StartDialog).size(), 1u);
}

TEST_F(SessionTest, ARejectedOfferDoesNotBecomeTheSdpOfLaterRefreshes)
{
    setParams({{"SS_SIP_NO_TIMER_REINVITE_INTERVAL", "60"}});
    answerWith(timer(0, "", false), timer(0, "", false));
    constexpr const char* kRejected = "v=0\r\no=- 1 9 IN IP4 192.0.2.10\r\ns=-\r\n";
    const auto reinvite = stack_.newServerTxn();
    manager_.onDialogRequest(aDialog(), reinvite, request("INVITE", kRejected));
    manager_.onResponse(sentOn(bDialog_, "INVITE").back().txn, response(488));
    EXPECT_EQ(stack_.lastStatus(reinvite), 488);
    timers_.advance(61s);
    const auto keepAlives = sentOn(bDialog_, "INVITE");
    ASSERT_EQ(keepAlives.size(), 2u);
    EXPECT_EQ(keepAlives.back().body, kSdp);  // the SDP the callee actually accepted
}

TEST(CallManagerMerge, OneLiveStateFromEverySipThread)
{
    using ss::common::LiveState;
    auto at = [](int s) { return ss::common::SysTime{} + std::chrono::seconds(s); };
    LiveState first;
    first.node = "node-a";
    first.calls.push_back({});
    first.calls.back().callId = "late";
    first.calls.back().setupAt = at(20);
    first.counters.callsOffered = 3;
    first.counters.callsAnswered = 2;
    first.counters.callsEnded = 1;
    first.counters.callsShed = 1;
    first.counters.sipReceiveWaitMs = 7;
    first.counters.endReasons = {{"caller_bye", 1}};
    first.counters.retransmissions = 4;
    first.counters.reloads = 2;
    first.counters.callsLastSecond = 5;
    first.gateways.push_back({});
    first.gateways.back().name = "term1";
    first.gateways.back().activeCalls = 9;
    first.gateways.back().attempts = 10;
    first.gateways.back().outcomes = {{"answered", 6}};

    LiveState second = first;
    second.calls.back().callId = "early";
    second.calls.back().setupAt = at(10);
    second.counters.overloaded = true;
    second.counters.sipReceiveWaitMs = 60;
    second.counters.endReasons = {{"caller_bye", 2}, {"no_answer", 1}};
    second.gateways.back().attempts = 5;
    second.gateways.back().outcomes = {{"answered", 1}, {"timeout_invite", 4}};
    LiveState unknownGateway;  // a thread on a newer snapshot than the first one
    unknownGateway.gateways.push_back({});
    unknownGateway.gateways.back().name = "term9";
    unknownGateway.gateways.back().attempts = 1;

    const auto all = ss::sig::CallManager::merge({first, second, unknownGateway});
    EXPECT_EQ(all.node, "node-a");
    ASSERT_EQ(all.calls.size(), 2u);
    EXPECT_EQ(all.calls[0].callId, "early");  // by setup time
    EXPECT_EQ(all.calls[1].callId, "late");
    EXPECT_EQ(all.counters.callsOffered, 6u);
    EXPECT_EQ(all.counters.callsAnswered, 4u);
    EXPECT_EQ(all.counters.callsEnded, 2u);
    EXPECT_EQ(all.counters.callsShed, 2u);
    EXPECT_TRUE(all.counters.overloaded);
    EXPECT_EQ(all.counters.sipReceiveWaitMs, 60);  // the longest wait, not a sum
    EXPECT_EQ(all.counters.endReasons,
              (std::map<std::string, std::uint64_t>{{"caller_bye", 3}, {"no_answer", 1}}));
    EXPECT_EQ(all.counters.retransmissions, 8u);
    // Every thread installs every snapshot, and load and CPS are shared: not sums.
    EXPECT_EQ(all.counters.reloads, 2u);
    EXPECT_EQ(all.counters.callsLastSecond, 5);
    ASSERT_EQ(all.gateways.size(), 1u);
    EXPECT_EQ(all.gateways[0].activeCalls, 9);
    EXPECT_EQ(all.gateways[0].attempts, 15u);
    EXPECT_EQ(all.gateways[0].outcomes,
              (std::map<std::string, std::uint64_t>{{"answered", 7}, {"timeout_invite", 4}}));
    EXPECT_TRUE(ss::sig::CallManager::merge({}).calls.empty());
}
