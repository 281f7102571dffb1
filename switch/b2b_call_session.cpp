// SPDX-License-Identifier: Apache-2.0
// B2bCall, part two: RFC 4028 session timers per leg and the VOS3000 no-timer keep-alive
// (SS_SIP_SESSION_TTL, SS_SIP_SESSION_UPDATE_SEGMENT, SS_SIP_NO_TIMER_REINVITE_INTERVAL).
// Each leg keeps its own agreement; a refresh on one leg never reaches the other unless its
// SDP changed.
#include "switch/b2b_call.h"
#include "switch/call_manager.h"

#include <spdlog/spdlog.h>

namespace ss::sig {

namespace {

constexpr const char* kSdpType = "application/sdp";

bool endsTheSession(const SipResponse& resp)
{
    // RFC 4028 §10: 408 or 481 to a refresh (or no answer at all) means the session is gone.
    return resp.status == 408 || resp.status == 481 || resp.internal;
}

}  // namespace

void B2bCall::noteSdp(Leg from, const std::string& body)
{
    if (body.empty()) {
        return;
    }
    session(from).sdpReceived = body;
    session(other(from)).sdpSent = body;
}

void B2bCall::armSession(Leg leg)
{
    LegSession& s = session(leg);
    cancelTimer(s.timerId);
    if (state_ != State::Confirmed || s.refreshTxn != 0) {
        return;
    }
    std::chrono::milliseconds delay{0};
    if (s.timer.active) {
        delay = s.timer.weRefresh ? refreshDelay(s.timer.interval, params_->sessionUpdateSegment)
                                  : expiryDelay(s.timer.interval);
    } else if (params_->noTimerReinvite.count() > 0) {
        delay = params_->noTimerReinvite;
    } else {
        return;
    }
    s.timerDue = manager_.clock().monotonicNow() + delay;
    s.timerId = after(s.timerDue, &B2bCall::onLegTimer, leg == Leg::A ? 0 : 1);
}

void B2bCall::onLegTimer(std::uint32_t legIndex)
{
    const Leg leg = legIndex == 0 ? Leg::A : Leg::B;
    LegSession& s = session(leg);
    s.timerId = 0;
    if (state_ != State::Confirmed) {
        return;
    }
    if (s.timer.active && !s.timer.weRefresh) {
        manager_.log().info("[{}] leg {} did not refresh its session within {} s", request_.callId,
                            legIndex == 0 ? "A" : "B", s.timer.interval.count());
        endFromSwitch("session_expired");
        return;
    }
    sendRefresh(leg, s.timer.active ? RefreshKind::Session : RefreshKind::KeepAlive);
}

void B2bCall::sendRefresh(Leg leg, RefreshKind kind)
{
    LegSession& s = session(leg);
    SipRequest req;
    // UPDATE needs no SDP (RFC 4028 §9 prefers it); otherwise re-INVITE with the SDP this
    // leg already has, so nothing changes for the media.
    if (kind == RefreshKind::Session && s.allowsUpdate) {
        req.method = "UPDATE";
    } else {
        req.method = "INVITE";
        if (!s.sdpSent.empty()) {
            req.contentType = kSdpType;
            req.body = s.sdpSent;
        }
    }
    if (kind == RefreshKind::Session) {
        req.timer.sessionExpires = static_cast<std::uint32_t>(s.timer.interval.count());
        req.timer.refresher = "uac";
        req.timer.minSe = uacMinSe_;
    }
    const ClientTxnId txn = manager_.stack().sendInDialog(dialogOf(leg), req);
    if (txn == 0) {
        endFromSwitch(kind == RefreshKind::Session ? "session_expired"
                                                   : "no_timer_reinvite_failed");
        return;
    }
    manager_.bindClientTxn(txn, this);
    s.refreshTxn = txn;
    s.refreshKind = kind;
}

bool B2bCall::isRefreshTxn(ClientTxnId txn) const
{
    return txn != 0 && (legs_[0].refreshTxn == txn || legs_[1].refreshTxn == txn);
}

void B2bCall::onRefreshResponse(ClientTxnId txn, const SipResponse& resp)
{
    if (resp.status < 200) {
        return;
    }
    const Leg leg = legs_[0].refreshTxn == txn ? Leg::A : Leg::B;
    LegSession& s = session(leg);
    const RefreshKind kind = s.refreshKind;
    if (resp.status < 300) {
        manager_.stack().ack(dialogOf(leg), txn, {}, {});  // no-op for UPDATE
    }
    manager_.unbindClientTxn(txn);
    manager_.stack().releaseClientTxn(txn);
    s.refreshTxn = 0;
    if (kind == RefreshKind::Session && resp.status == 422 && resp.timer.minSe != 0) {
        s.timer.interval = std::max(s.timer.interval, std::chrono::seconds(resp.timer.minSe));
        uacMinSe_ = std::max(uacMinSe_, resp.timer.minSe);
        sendRefresh(leg, kind);
        return;
    }
    if (endsTheSession(resp)) {
        endFromSwitch(kind == RefreshKind::Session ? "session_expired"
                                                   : "no_timer_reinvite_failed");
        return;
    }
    if (kind == RefreshKind::Session && resp.status < 300 && resp.timer.sessionExpires != 0) {
        s.timer = acceptAsUac(resp.timer);
    }
    // Any other final response means the peer is alive (SPEC §2 keep-alive rule).
    armSession(leg);
}

bool B2bCall::isPureRefresh(Leg leg, const SipRequest& req) const
{
    const LegSession& s = legs_[leg == Leg::A ? 0 : 1];
    if (req.method == "UPDATE") {
        return req.body.empty();
    }
    return req.method == "INVITE" && !req.body.empty() && req.body == s.sdpReceived;
}

void B2bCall::answerRefresh(Leg leg, ServerTxnId txn, const SipRequest& req)
{
    LegSession& s = session(leg);
    const auto decision = negotiateAsUas(req.timer, params_->sessionTtl);
    if (decision.reject422) {
        auto tooSmall = reply(422, "Session Interval Too Small");
        tooSmall.timer = decision.answer;
        manager_.stack().respond(txn, tooSmall);
        manager_.stack().releaseServerTxn(txn);
        return;
    }
    auto ok = reply(200, "OK");
    if (req.method == "INVITE" && !s.sdpSent.empty()) {
        ok.contentType = kSdpType;
        ok.body = s.sdpSent;
    }
    ok.timer = decision.answer;
    s.timer = decision.leg;
    manager_.stack().respond(txn, ok);
    // The ACK of a locally answered re-INVITE carries nothing we need; the stack absorbs it.
    manager_.stack().releaseServerTxn(txn);
    manager_.log().debug("[{}] refresh on leg {} answered locally", request_.callId,
                         leg == Leg::A ? "A" : "B");
    armSession(leg);
}

void B2bCall::endFromSwitch(const std::string& reason)
{
    writeCdr(cdr::EndDirection::Switch, reason, "send_bye", 200, "OK");
    sendBye(Leg::A);
    sendBye(Leg::B);
    transition(byes_.empty() ? State::Done : State::Terminating);
}

void B2bCall::releaseSessions()
{
    for (auto& s : legs_) {
        cancelTimer(s.timerId);
        if (s.refreshTxn != 0) {
            manager_.unbindClientTxn(s.refreshTxn);
            manager_.stack().releaseClientTxn(s.refreshTxn);
            s.refreshTxn = 0;
        }
    }
}

}  // namespace ss::sig
