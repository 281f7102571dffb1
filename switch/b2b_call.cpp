// SPDX-License-Identifier: Apache-2.0
#include "switch/b2b_call.h"

#include "common/ids.h"
#include "routing/failover.h"
#include "switch/call_manager.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

namespace ss::sig {

namespace {

// How long a cancelled or ended call waits for the B-leg's last response before it is
// released anyway: Timer B/F (64·T1, RFC 3261 §17.1.1.2).
constexpr auto kGuardTime = std::chrono::seconds(32);

std::string hostPort(const std::string& host, std::uint16_t port)
{
    return host + ":" + std::to_string(port);
}

bool isSuccess(int code) { return code >= 200 && code < 300; }

/// RFC 3262 for a gateway: its `enable-100rel` option, else SS_SIP_ENABLE_100REL.
bool use100rel(const common::GatewayConfig& gw, const common::SwitchParams& params)
{
    auto it = gw.options.find("enable-100rel");
    if (it != gw.options.end() && (it->second == "on" || it->second == "off")) {
        return it->second == "on";
    }
    return params.enable100rel;
}

}  // namespace

const char* toString(B2bCall::State state)
{
    switch (state) {
    case B2bCall::State::Routing:
        return "Routing";
    case B2bCall::State::Calling:
        return "Calling";
    case B2bCall::State::Early:
        return "Early";
    case B2bCall::State::Answered:
        return "Answered";
    case B2bCall::State::Confirmed:
        return "Confirmed";
    case B2bCall::State::Cancelling:
        return "Cancelling";
    case B2bCall::State::Terminating:
        return "Terminating";
    case B2bCall::State::Done:
        return "Done";
    }
    return "?";
}

namespace {

const char* liveName(B2bCall::State state)
{
    switch (state) {
    case B2bCall::State::Routing:
        return "routing";
    case B2bCall::State::Calling:
        return "calling";
    case B2bCall::State::Early:
        return "early";
    case B2bCall::State::Answered:
        return "answered";
    case B2bCall::State::Confirmed:
        return "up";
    case B2bCall::State::Cancelling:
        return "cancelling";
    case B2bCall::State::Terminating:
    case B2bCall::State::Done:
        return "ending";
    }
    return "?";
}

}  // namespace

B2bCall::B2bCall(CallManager& manager, ServerTxnId invite, SipRequest request,
                 const common::GatewayConfig& origin,
                 std::shared_ptr<const routing::RoutingTable> table,
                 std::shared_ptr<const common::SwitchParams> params)
    : manager_(manager),
      aInvite_(invite),
      request_(std::move(request)),
      origin_(origin),
      table_(std::move(table)),
      params_(std::move(params))
{
    // One clock per call: every later stamp is setup + monotonic elapsed (SPEC §4).
    setupMono_ = manager_.clock().monotonicNow();
    cdr_.setupAt = manager_.clock().systemNow();
    cdr_.node = manager_.config().node;
    cdr_.callId = request_.callId;
    cdr_.caller = request_.from.user;
    cdr_.callee = request_.requestUser;
    cdr_.originGateway = origin_.name;
    cdr_.originAddr = hostPort(request_.sourceIp, request_.sourcePort);
    manager_.bindServerTxn(aInvite_, this);
}

B2bCall::~B2bCall()
{
    release();
}

common::SysTime B2bCall::now() const
{
    const auto elapsed = manager_.clock().monotonicNow() - setupMono_;
    return cdr_.setupAt + std::chrono::duration_cast<common::SysTime::duration>(elapsed);
}

common::LiveCall B2bCall::live(common::MonoTime nowMono, common::SysTime nowSys) const
{
    const auto at = [&](common::MonoTime due) {
        return nowSys + std::chrono::duration_cast<common::SysTime::duration>(due - nowMono);
    };
    common::LiveCall call;
    call.callId = request_.callId;
    call.caller = cdr_.caller;
    call.callee = cdr_.callee;
    call.calleeOut = cdr_.calleeOut;
    call.state = liveName(state_);
    call.attempt = static_cast<int>(cdr_.attempts.size()) + (attempt_ && !attempt_->recorded);
    call.setupAt = cdr_.setupAt;
    call.ringAt = cdr_.ringAt;
    call.answerAt = cdr_.answerAt;

    common::LiveLeg a;
    a.side = "caller";
    a.gateway = origin_.name;
    a.addr = cdr_.originAddr;
    a.transport = common::toString(request_.transport);
    a.state = call.state;
    call.legs.push_back(std::move(a));
    if (attempt_) {
        common::LiveLeg b;
        b.side = "callee";
        b.gateway = attempt_->target.gateway->name;
        b.addr = attempt_->target.address();
        b.transport = common::toString(attempt_->target.gateway->transport);
        std::string phaseTimer;  // SPEC §2 SS_SIP_TIMEOUT_* armed for this phase
        switch (attempt_->phase) {
        case Phase::Invite:
            b.state = "calling";
            phaseTimer = "timeout_invite";
            break;
        case Phase::Trying:
            b.state = "trying";
            phaseTimer = "timeout_trying";
            break;
        case Phase::Ringing:
            b.state = "early";
            phaseTimer = "timeout_ringing";
            break;
        case Phase::None:
            b.state = attempt_->recorded && !cdr_.answerAt ? "failed" : call.state;
            break;
        }
        call.legs.push_back(std::move(b));
        if (attempt_->phaseTimer != 0 && !phaseTimer.empty()) {
            call.timers.push_back({std::move(phaseTimer), at(attempt_->phaseDue)});
        }
    }
    if (earlyHangupTimer_ != 0) {
        call.timers.push_back({"early_hangup", at(earlyHangupDue_)});
    }
    for (std::size_t i = 0; i < legs_.size(); ++i) {
        const LegSession& s = legs_[i];
        if (s.timerId == 0) {
            continue;
        }
        std::string name = i == 0 ? "caller_" : "callee_";
        if (!s.timer.active) {
            name += "keepalive_reinvite";
        } else {
            name += s.timer.weRefresh ? "session_refresh" : "session_expiry";
        }
        call.timers.push_back({std::move(name), at(s.timerDue)});
    }
    return call;
}

void B2bCall::transition(State to)
{
    if (to == state_) {
        return;
    }
    manager_.log().debug("[{}] {} -> {}", request_.callId, toString(state_), toString(to));
    state_ = to;
}

DialogId B2bCall::dialogOf(Leg leg) const
{
    if (leg == Leg::A) {
        return aDialog_;
    }
    return attempt_ ? attempt_->dialog : 0;
}

void B2bCall::start()
{
    aSession_ = negotiateAsUas(request_.timer, params_->sessionTtl);
    if (aSession_.reject422) {
        // RFC 4028 §8.1. No CDR: the caller retries at once, usually with the same Call-ID.
        auto tooSmall = reply(422, "Session Interval Too Small");
        tooSmall.timer = aSession_.answer;
        manager_.stack().respond(aInvite_, tooSmall);
        transition(State::Done);
        return;
    }
    if (request_.requires100rel && !use100rel(origin_, *params_)) {
        // RFC 3261 §8.2.2.3. No CDR, as for 422: the caller retries without it.
        auto unsupported = reply(420, "Bad Extension");
        unsupported.relayHeaders.push_back({"Unsupported", "100rel"});
        manager_.stack().respond(aInvite_, unsupported);
        transition(State::Done);
        return;
    }
    reliableToCaller_ = use100rel(origin_, *params_) &&
                        (request_.supports100rel || request_.requires100rel);
    session(Leg::A).allowsUpdate = request_.timer.allowsUpdate;
    noteSdp(Leg::A, request_.body);
    const auto nowMono = manager_.clock().monotonicNow();
    // Origination limits (SPEC §1 --capacity/--cps): over them the caller gets 503.
    switch (manager_.load().admit(origin_, nowMono)) {
    case routing::Admission::Admitted:
        originAdmitted_ = true;
        break;
    case routing::Admission::AtCapacity:
        rejectCaller(503, "Service Unavailable", cdr::EndDirection::Switch, "capacity_limit");
        return;
    case routing::Admission::OverCps:
        rejectCaller(503, "Service Unavailable", cdr::EndDirection::Switch, "cps_limit");
        return;
    }
    if (request_.requestUser.empty()) {
        rejectCaller(484, "Address Incomplete", cdr::EndDirection::Switch, "no_route");
        return;
    }
    const auto candidates = table_->candidates(request_.requestUser);
    if (candidates.empty()) {
        rejectCaller(404, "No Route", cdr::EndDirection::Switch, "no_route");
        return;
    }
    // Weighted order, health and PUBLISH liveness: routing/selection.h. A route whose
    // gateways are all unusable right now is a route that fails, not a missing one.
    targets_ = routing::planAttempts(*table_, candidates, manager_.health(),
                                     manager_.availability(), nowMono, manager_.random());
    if (targets_.empty()) {
        rejectCaller(503, "Service Unavailable", cdr::EndDirection::Switch,
                     "all_gateways_failed");
        return;
    }
    manager_.stack().respond(aInvite_, reply(100, "Trying"));
    manager_.journalProgress(cdr_, false);
    if (params_->earlyHangup.count() > 0) {
        earlyHangupDue_ = setupMono_ + params_->earlyHangup;
        earlyHangupTimer_ = after(earlyHangupDue_, &B2bCall::onEarlyHangup, 0);
    }
    tryNextGateway();
}

void B2bCall::tryNextGateway()
{
    while (nextTarget_ < targets_.size()) {
        const routing::Target target = targets_[nextTarget_++];
        const auto& gw = *target.gateway;
        const int limit = params_->gatewaySwitchLimit;
        if (limit > 0 && gatewaysTried_.count(gw.name) == 0 &&
            static_cast<int>(gatewaysTried_.size()) >= limit) {
            manager_.log().info("[{}] SS_GATEWAY_SWITCH_LIMIT {} reached", request_.callId, limit);
            break;
        }
        if (startAttempt(target)) {
            return;
        }
    }
    // RFC 3261 §16.7 step 6 in spirit: the most meaningful answer is the last gateway's,
    // or 503 when no gateway gave one.
    if (lastRejection_.status >= 300) {
        rejectCaller(lastRejection_.status, lastRejection_.reason, cdr::EndDirection::Switch,
                     "all_gateways_failed");
        return;
    }
    rejectCaller(503, "Service Unavailable", cdr::EndDirection::Switch, "all_gateways_failed");
}

bool B2bCall::startAttempt(const routing::Target& target)
{
    const auto& gw = *target.gateway;
    const std::string calleeOut = routing::translateNumber(gw, request_.requestUser);
    const std::string hostPort = target.address();

    attempt_ = Attempt{};
    attempt_->target = target;
    attempt_->generation = ++generations_;
    attempt_->startedAt = now();
    attempt_->startedMono = manager_.clock().monotonicNow();
    // Termination limits: a gateway at its limit is skipped, not failed (issue 4 §4).
    const auto admission = manager_.load().admit(gw, attempt_->startedMono);
    if (admission != routing::Admission::Admitted) {
        manager_.log().info("[{}] {} skipped: {}", request_.callId, gw.name,
                            admission == routing::Admission::AtCapacity ? "at capacity"
                                                                        : "over cps");
        finishAttempt(0, "skipped");
        return false;
    }
    attempt_->holdsLoad = true;
    gatewaysTried_.insert(gw.name);

    const std::string ruri = "sip:" + calleeOut + "@" + hostPort +
                             (gw.transport == common::Transport::Tcp ? ";transport=tcp" : "");
    NewDialog dialog;
    dialog.callId = common::randomToken(24);
    dialog.from = {request_.from.display, request_.from.user, {}, {}};
    dialog.to = {{}, calleeOut, "sip:" + calleeOut + "@" + gw.host, {}};
    dialog.requestUri = ruri;
    dialog.target = {target.ip, target.port, gw.transport};
    dialog.callerRetransmits = gw.transport == common::Transport::Udp;
    dialog.offer100rel = use100rel(gw, *params_);

    SipRequest invite;
    invite.method = "INVITE";
    invite.requestUri = ruri;
    invite.contentType = request_.contentType;
    invite.body = request_.body;
    invite.relayHeaders = request_.relayHeaders;
    invite.timer = offerAsUac(params_->sessionTtl, std::chrono::seconds(uacMinSe_));

    if (gw.transport == common::Transport::Udp) {
        attempt_->resend = params_->resendSchedule();
    }
    cdr_.calleeOut = calleeOut;
    cdr_.termGateway = gw.name;
    cdr_.termAddr = hostPort;
    manager_.log().info("[{}] attempt {} via {} ({}) to {}", request_.callId,
                        cdr_.attempts.size() + 1, gw.name, hostPort, calleeOut);

    const auto started = manager_.stack().startDialog(dialog, invite);
    if (started.txn == 0) {
        manager_.health().noAnswer(hostPort, attempt_->startedMono, params_->blacklistTime,
                                   "transport_error");
        finishAttempt(0, "transport_error");
        return false;
    }
    attempt_->dialog = started.dialog;
    attempt_->invite = started.txn;
    manager_.bindDialog(started.dialog, this, Leg::B);
    manager_.bindClientTxn(started.txn, this);
    transition(State::Calling);
    enterPhase(Phase::Invite);
    if (gw.transport == common::Transport::Udp) {
        armResend();  // over TCP nothing is resent (RFC 3261 §17.1.1.2)
    }
    return true;
}

common::TimerId B2bCall::after(common::MonoTime at, void (B2bCall::*fn)(std::uint32_t),
                               std::uint32_t generation)
{
    auto* self = this;
    auto& manager = manager_;
    return manager_.timers().schedule(at, [self, &manager, fn, generation] {
        manager.dispatch(self, [&](B2bCall& call) { (call.*fn)(generation); });
    });
}

void B2bCall::cancelTimer(common::TimerId& id)
{
    if (id != 0) {
        manager_.timers().cancel(id);
        id = 0;
    }
}

void B2bCall::armResend()
{
    // Each wait is how long to wait for an answer to the copy before it: copy k goes out at
    // the sum of the first k waits; after the last copy the attempt waits the next wait of the
    // list (or the last one again) before it counts as resend_exhausted.
    const auto& waits = attempt_->resend;
    const auto& list = params_->resendIntervals;
    std::chrono::milliseconds at{0};
    for (std::size_t i = 0; i < attempt_->copies && i < waits.size(); ++i) {
        at += waits[i];
    }
    if (attempt_->copies < waits.size()) {
        at += waits[attempt_->copies];
    } else {
        const std::size_t n = waits.size();
        at += n < list.size() ? list[n] : list.back();
    }
    attempt_->resendTimer =
        after(attempt_->startedMono + at, &B2bCall::onResendTimer, attempt_->generation);
}

void B2bCall::onResendTimer(std::uint32_t generation)
{
    if (!attempt_ || attempt_->generation != generation || attempt_->phase != Phase::Invite) {
        return;
    }
    attempt_->resendTimer = 0;
    if (attempt_->copies < attempt_->resend.size()) {
        ++attempt_->copies;
        manager_.countResend();
        manager_.stack().retransmit(attempt_->invite);
        armResend();
        return;
    }
    manager_.log().info("[{}] no answer after {} INVITE copies to {}", request_.callId,
                        attempt_->copies + 1, attempt_->target.address());
    abandonAttempt("resend_exhausted");
}

void B2bCall::enterPhase(Phase phase)
{
    if (!attempt_ || attempt_->phase == phase) {
        return;
    }
    if (attempt_->phase == Phase::Invite && phase != Phase::Invite) {
        cancelTimer(attempt_->resendTimer);  // a provisional response stops resending
    }
    // Only a later phase replaces the timer: a 100 after a 18x does not restart anything.
    if (phase != Phase::Invite && attempt_->phase != Phase::Invite && phase < attempt_->phase) {
        return;
    }
    attempt_->phase = phase;
    cancelTimer(attempt_->phaseTimer);
    std::chrono::seconds limit{0};
    switch (phase) {
    case Phase::Invite:
        limit = params_->timeoutInvite;
        break;
    case Phase::Trying:
        limit = params_->timeoutTrying;
        break;
    case Phase::Ringing:
        limit = params_->timeoutRinging;
        break;
    case Phase::None:
        cancelTimer(attempt_->resendTimer);
        return;
    }
    attempt_->phaseDue = manager_.clock().monotonicNow() + limit;
    attempt_->phaseTimer = after(attempt_->phaseDue, &B2bCall::onPhaseTimeout,
                                 attempt_->generation);
}

void B2bCall::onPhaseTimeout(std::uint32_t generation)
{
    if (!attempt_ || attempt_->generation != generation) {
        return;
    }
    attempt_->phaseTimer = 0;
    switch (attempt_->phase) {
    case Phase::Invite:
        abandonAttempt("timeout_invite");
        return;
    case Phase::Trying:
        abandonAttempt("timeout_trying");
        return;
    case Phase::Ringing:
        // The callee rang but never answered: the call ends here (SPEC §2), no failover.
        manager_.stack().cancel(attempt_->invite);
        finishAttempt(0, "timeout_ringing");
        rejectCaller(480, "Temporarily Unavailable", cdr::EndDirection::Switch,
                     "timeout_ringing");
        return;
    case Phase::None:
        return;
    }
}

void B2bCall::abandonAttempt(const std::string& outcome)
{
    if (attempt_->phase != Phase::Invite) {
        manager_.stack().cancel(attempt_->invite);  // §9.1: only after a provisional
    }
    finishAttempt(0, outcome);
    afterFailedAttempt(false);
}

void B2bCall::onEarlyHangup(std::uint32_t)
{
    earlyHangupTimer_ = 0;
    if (state_ != State::Calling && state_ != State::Early) {
        return;
    }
    if (attempt_ && attempt_->invite != 0 && attempt_->phase != Phase::Invite) {
        manager_.stack().cancel(attempt_->invite);
    }
    finishAttempt(0, "early_hangup");
    rejectCaller(480, "Temporarily Unavailable", cdr::EndDirection::Switch, "early_hangup");
}

void B2bCall::recordAttempt(int code, const std::string& outcome)
{
    if (!attempt_ || attempt_->recorded) {
        return;
    }
    const auto& gw = *attempt_->target.gateway;
    cdr::CdrAttempt row;
    row.seq = static_cast<int>(cdr_.attempts.size()) + 1;
    row.gateway = gw.name;
    row.addr = attempt_->target.address();
    row.transport = common::toString(gw.transport);
    row.startedAt = attempt_->startedAt;
    row.endedAt = now();
    row.sipCode = code;
    row.outcome = outcome;
    cdr_.attempts.push_back(std::move(row));
    attempt_->recorded = true;
    manager_.countAttempt(gw.name, outcome);
    // What the address showed of its health (seed 001): silence or a broken connection
    // blacklists it; any response proves it alive.
    const auto address = attempt_->target.address();
    if (outcome == "resend_exhausted" || outcome == "timeout_invite" || outcome == "timeout" ||
        outcome == "transport_error") {
        manager_.health().noAnswer(address, manager_.clock().monotonicNow(),
                                   params_->blacklistTime, outcome);
    } else if (attempt_->answeredAtAll) {
        manager_.health().answered(address);
    }
}

void B2bCall::finishAttempt(int code, const std::string& outcome)
{
    if (!attempt_) {
        return;
    }
    recordAttempt(code, outcome);
    cancelTimer(attempt_->resendTimer);
    cancelTimer(attempt_->phaseTimer);
    attempt_->phase = Phase::None;
    if (attempt_->invite != 0) {
        manager_.unbindClientTxn(attempt_->invite);
        manager_.stack().releaseClientTxn(attempt_->invite);
        attempt_->invite = 0;
    }
    // An answered attempt keeps its dialog (the call goes on in it) and its gateway unit.
    if (!isSuccess(code)) {
        if (attempt_->dialog != 0) {
            manager_.unbindDialog(attempt_->dialog);
            manager_.stack().releaseDialog(attempt_->dialog);
            attempt_->dialog = 0;
        }
        if (attempt_->holdsLoad) {
            manager_.load().release(attempt_->target.gateway->name);
            attempt_->holdsLoad = false;
        }
    }
}

void B2bCall::onResponse(ClientTxnId txn, const SipResponse& resp)
{
    if (attempt_ && txn == attempt_->invite) {
        onInviteResponse(resp);
        return;
    }
    if (isRefreshTxn(txn)) {
        onRefreshResponse(txn, resp);
        return;
    }
    if (auto it = relays_.find(txn); it != relays_.end()) {
        Relay relay = it->second;
        if (resp.status >= 200) {
            relays_.erase(it);
        }
        onRelayedResponse(txn, relay, resp);
        return;
    }
    if (resp.status >= 200) {
        // A BYE we sent has been answered (or timed out): nothing else to wait for.
        byes_.erase(txn);
        manager_.unbindClientTxn(txn);
        manager_.stack().releaseClientTxn(txn);
        if (state_ == State::Terminating && byes_.empty()) {
            transition(State::Done);
        }
    }
}

void B2bCall::onInviteResponse(const SipResponse& resp)
{
    if (!resp.internal) {
        attempt_->answeredAtAll = true;
        if (connErr_) {
            stopConnErrRetry();  // connected: the first success is relayed (seed 000)
        }
    }
    if (resp.status < 200) {
        if (state_ != State::Calling && state_ != State::Early) {
            return;  // late (after the 2xx) or while cancelling: ignored (RFC 3261 §13.2.2.1)
        }
        if (resp.status == 100) {
            enterPhase(Phase::Trying);
            return;
        }
        enterPhase(Phase::Ringing);
        if (!resp.body.empty()) {
            attempt_->sentSdp = true;
        }
        if (!cdr_.ringAt) {
            cdr_.ringAt = now();
        }
        noteSdp(Leg::B, resp.body);
        if (aDialog_ == 0) {
            aDialog_ = manager_.stack().acceptDialog(aInvite_);
            manager_.bindDialog(aDialog_, this, Leg::A);
        }
        // 100rel is per leg: reliable towards the caller when it can do it, whatever the
        // callee did (the B-leg's PRACKs are the stack's).
        auto early = relayOf(resp);
        early.reliable = reliableToCaller_;
        manager_.stack().respond(aInvite_, early);
        transition(State::Early);
        return;
    }
    enterPhase(Phase::None);
    if (!isSuccess(resp.status)) {
        onInviteFailure(resp);
        return;
    }
    cancelTimer(earlyHangupTimer_);
    // 2xx
    if (state_ == State::Cancelling) {
        // The callee answered while our CANCEL crossed it (§9.1): the call is already billed
        // as cancelled; take the B-leg down.
        manager_.stack().ack(attempt_->dialog, attempt_->invite, {}, {});
        finishAttempt(resp.status, "cancelled");
        sendBye(Leg::B);
        transition(byes_.empty() ? State::Done : State::Terminating);
        return;
    }
    if (state_ == State::Answered || state_ == State::Confirmed) {
        return;  // a retransmitted or forked 2xx; nta re-ACKs retransmissions itself
    }
    cdr_.answerAt = now();
    manager_.countAnswered();
    attempt_->sentSdp = attempt_->sentSdp || !resp.body.empty();
    if (aDialog_ == 0) {
        aDialog_ = manager_.stack().acceptDialog(aInvite_);
        manager_.bindDialog(aDialog_, this, Leg::A);
    }
    noteSdp(Leg::B, resp.body);
    session(Leg::B).timer = acceptAsUac(resp.timer);
    session(Leg::B).allowsUpdate = resp.timer.allowsUpdate;
    session(Leg::A).timer = aSession_.leg;
    manager_.journalProgress(cdr_, true);  // billed from here on, crash or not
    auto answer = relayOf(resp);
    answer.timer = aSession_.answer;
    manager_.stack().respond(aInvite_, answer);
    transition(State::Answered);
}

void B2bCall::onInviteFailure(const SipResponse& resp)
{
    if (state_ == State::Cancelling) {
        finishAttempt(resp.status, "cancelled");
        cancelGuard();
        transition(State::Done);
        return;
    }
    if (resp.status == 422 && !resp.internal && !retried422_ && resp.timer.minSe > uacMinSe_) {
        // RFC 4028 §7.3: the callee wants a longer interval; ask the same gateway again.
        retried422_ = true;
        uacMinSe_ = resp.timer.minSe;
        finishAttempt(resp.status, "rejected");
        const routing::Target same = attempt_->target;
        if (!startAttempt(same)) {
            tryNextGateway();
        }
        return;
    }
    const bool timeout = resp.internal && resp.status == 408;
    const bool transportError = resp.internal && !timeout;
    const std::string outcome =
        timeout ? "timeout" : (transportError ? "transport_error" : "rejected");
    // A stack-generated response carries no gateway code (RFC 3261 §8.1.3.1).
    finishAttempt(resp.internal ? 0 : resp.status, outcome);
    if (!resp.internal) {
        lastRejection_ = reply(resp.status, resp.reason);
    }

    const bool failover = routing::shouldFailover(
        {resp.status, resp.internal, attempt_->sentSdp}, *attempt_->target.gateway);
    if (failover) {
        afterFailedAttempt(transportError);
        return;
    }
    rejectCaller(resp.status, resp.reason, cdr::EndDirection::Callee, "callee_rejected");
}

void B2bCall::afterFailedAttempt(bool transportError)
{
    if (connErr_ || (transportError && startConnErrRetry())) {
        // Seed 000: the same destination again after connerr-retry-timeout, while retries
        // and Timer F last; when they run out the hunt goes on.
        if (connErr_->retriesLeft > 0) {
            --connErr_->retriesLeft;
            connErr_->timer = after(manager_.clock().monotonicNow() + connErr_->interval,
                                    &B2bCall::onConnErrRetry, attempt_->generation);
            return;
        }
        manager_.log().info("[{}] connerr retries to {} used up", request_.callId,
                            connErr_->destination.address());
        stopConnErrRetry();
    }
    tryNextGateway();
}

bool B2bCall::startConnErrRetry()
{
    const auto& gw = *attempt_->target.gateway;
    const auto option = [&](const char* key) {
        auto it = gw.options.find(key);
        return it == gw.options.end() ? std::string() : it->second;
    };
    if (gw.transport != common::Transport::Tcp) {
        return false;
    }
    const int maxRetries = std::atoi(option("connerr-max-retries").c_str());
    const auto dest = routing::parseRetryDestination(option("retrydest-on-conerr"));
    if (maxRetries <= 1 || !dest) {
        return false;  // SPEC §3: > 1 enables; a missing or invalid destination disables
    }
    const std::string timeoutText = option("connerr-retry-timeout");
    const int timeoutMs = timeoutText.empty() ? 3000 : std::atoi(timeoutText.c_str());
    ConnErrRetry retry;
    retry.destination = {&gw, dest->first, dest->second};
    retry.interval = std::chrono::milliseconds(timeoutMs > 0 ? timeoutMs : 3000);
    retry.retriesLeft = maxRetries;
    // Timer F = 64×T1 from the first try, T1 = the first SS_SIP_RESEND_INTERVAL wait.
    const auto timerF = params_->resendIntervals.front() * 64;
    retry.timerF = after(attempt_->startedMono + timerF, &B2bCall::onTimerF, 0);
    connErr_ = retry;
    manager_.log().info("[{}] connection error to {}: retrying {} every {} ms, {} times",
                        request_.callId, attempt_->target.address(),
                        retry.destination.address(), retry.interval.count(), maxRetries);
    return true;
}

void B2bCall::onConnErrRetry(std::uint32_t generation)
{
    if (!connErr_ || !attempt_ || attempt_->generation != generation) {
        return;
    }
    connErr_->timer = 0;
    if (!startAttempt(connErr_->destination)) {
        afterFailedAttempt(true);
    }
}

void B2bCall::onTimerF(std::uint32_t)
{
    if (!connErr_) {
        return;
    }
    connErr_->timerF = 0;
    manager_.log().info("[{}] Timer F passed without a connection: 408", request_.callId);
    if (attempt_ && attempt_->invite != 0) {
        finishAttempt(0, "transport_error");
    }
    stopConnErrRetry();
    rejectCaller(408, "Request Timeout", cdr::EndDirection::Switch, "transport_error");
}

void B2bCall::stopConnErrRetry()
{
    if (connErr_) {
        cancelTimer(connErr_->timer);
        cancelTimer(connErr_->timerF);
        connErr_.reset();
    }
}

void B2bCall::rejectCaller(int code, const std::string& reason, cdr::EndDirection direction,
                           const std::string& endReason)
{
    manager_.stack().respond(aInvite_, reply(code, reason));
    writeCdr(direction, endReason, "send_refuse", code, reason);
    transition(State::Done);
}

void B2bCall::onCancel()
{
    if (state_ != State::Calling && state_ != State::Early) {
        return;
    }
    manager_.stack().respond(aInvite_, reply(487, "Request Terminated"));
    writeCdr(cdr::EndDirection::Caller, "caller_cancel", "recv_cancel", 487,
             "Request Terminated");
    enterPhase(Phase::None);  // no more copies, no attempt timeouts, no failover
    stopConnErrRetry();
    if (!attempt_ || attempt_->invite == 0) {
        transition(State::Done);  // between two connerr tries: nothing to cancel
        return;
    }
    manager_.stack().cancel(attempt_->invite);
    transition(State::Cancelling);
    armGuard();
}

void B2bCall::onAck(ServerTxnId txn, const SipRequest& ack)
{
    if (txn == aInvite_) {
        answerAckArrived(ack);
        return;
    }
    auto it = pendingAck_.find(txn);
    if (it == pendingAck_.end()) {
        return;
    }
    const PendingAck pending = it->second;
    pendingAck_.erase(it);
    manager_.stack().ack(dialogOf(other(pending.from)), pending.clientTxn, ack.contentType,
                         ack.body);
    manager_.unbindClientTxn(pending.clientTxn);
    manager_.stack().releaseClientTxn(pending.clientTxn);
    manager_.unbindServerTxn(txn);
    manager_.stack().releaseServerTxn(txn);
}

void B2bCall::answerAckArrived(const SipRequest& ack)
{
    if (state_ != State::Answered) {
        return;
    }
    // End to end: the caller's ACK (with the answer, for a late offer) goes to the callee.
    manager_.stack().ack(attempt_->dialog, attempt_->invite, ack.contentType, ack.body);
    noteSdp(Leg::A, ack.body);
    finishAttempt(200, "answered");
    manager_.journalProgress(cdr_, true);  // with the answered attempt in the chain
    transition(State::Confirmed);
    armSession(Leg::A);
    armSession(Leg::B);
    // The caller's INVITE transaction is over once its 2xx is ACKed: free it (and the
    // INVITE message sofia keeps with it) now rather than at the end of the call; a
    // long-held call then costs only its dialogs (issue 7: memory per concurrent call).
    manager_.unbindServerTxn(aInvite_);
    manager_.stack().releaseServerTxn(aInvite_);
    aInvite_ = 0;
}

void B2bCall::onAckTimeout(ServerTxnId txn)
{
    if (txn == aInvite_ && state_ == State::Answered) {
        manager_.log().warn("[{}] the caller never ACKed our 2xx", request_.callId);
        terminate("ack_timeout");
        return;
    }
    if (auto it = pendingAck_.find(txn); it != pendingAck_.end()) {
        // The re-INVITE's ACK never came: ACK the other leg ourselves to keep it consistent.
        onAck(txn, SipRequest{});
    }
}

void B2bCall::onDialogRequest(Leg leg, ServerTxnId txn, const SipRequest& req)
{
    if (req.method == "ACK") {
        // Normally ACKs arrive through onAck; this is the path when the stack no longer
        // holds the INVITE transaction.
        if (leg == Leg::A) {
            answerAckArrived(req);
        }
        return;
    }
    if (req.method == "BYE") {
        onBye(leg, txn);
        return;
    }
    if (req.method == "OPTIONS") {
        manager_.stack().respond(txn, reply(200, "OK"));
        manager_.stack().releaseServerTxn(txn);
        return;
    }
    if (state_ != State::Confirmed && state_ != State::Answered && state_ != State::Early) {
        manager_.stack().respond(txn, reply(481, "Call/Transaction Does Not Exist"));
        manager_.stack().releaseServerTxn(txn);
        return;
    }
    if (state_ == State::Confirmed && isPureRefresh(leg, req)) {
        answerRefresh(leg, txn, req);
        return;
    }
    if (req.method == "INVITE" || req.method == "UPDATE" || req.method == "INFO") {
        relayInDialog(leg, txn, req);
        return;
    }
    manager_.stack().respond(txn, reply(405, "Method Not Allowed"));
    manager_.stack().releaseServerTxn(txn);
}

void B2bCall::relayInDialog(Leg from, ServerTxnId txn, const SipRequest& req)
{
    const DialogId target = dialogOf(other(from));
    if (target == 0 || (req.method != "INFO" && state_ != State::Confirmed)) {
        // RFC 3311 §5.2 allows early UPDATE, but only once both early dialogs exist.
        manager_.stack().respond(txn, req.method == "INVITE"
                                          ? reply(491, "Request Pending")
                                          : reply(500, "Server Internal Error"));
        manager_.stack().releaseServerTxn(txn);
        return;
    }
    if (req.method == "INVITE") {
        // Glare on either leg: RFC 3261 §14.2.
        if (!pendingReinvite_.empty()) {
            manager_.stack().respond(txn, reply(491, "Request Pending"));
            manager_.stack().releaseServerTxn(txn);
            return;
        }
        pendingReinvite_[from] = txn;
    }
    SipRequest out;
    out.method = req.method;
    out.contentType = req.contentType;
    out.body = req.body;
    out.relayHeaders = req.relayHeaders;
    if (req.method != "INFO") {
        const auto& to = session(other(from)).timer;
        out.timer = offerAsUac(to.active ? to.interval : params_->sessionTtl,
                               std::chrono::seconds(uacMinSe_));
    }
    const ClientTxnId sent = manager_.stack().sendInDialog(target, out);
    if (sent == 0) {
        pendingReinvite_.erase(from);
        manager_.stack().respond(txn, reply(500, "Server Internal Error"));
        manager_.stack().releaseServerTxn(txn);
        return;
    }
    manager_.bindClientTxn(sent, this);
    manager_.bindServerTxn(txn, this);
    relays_[sent] = {from, txn, req.method, req.timer, req.body, out, std::nullopt};
}

void B2bCall::onRelayedResponse(ClientTxnId txn, Relay relay, const SipResponse& resp)
{
    if (resp.status == 100) {
        return;
    }
    const Leg to = other(relay.from);
    const bool reliable = to == Leg::A ? request_.transport == common::Transport::Tcp
                                       : attempt_ && attempt_->target.gateway->transport ==
                                                         common::Transport::Tcp;
    if (relay.method == "INVITE" && resp.status == 503 &&
        (resp.transportErrorInfo || (resp.internal && reliable))) {
        // Seed 002: a re-INVITE that met a reliable transport error is resent, not failed.
        if (retryReinvite(txn, relay)) {
            return;
        }
        manager_.log().info("[{}] re-INVITE to leg {} hit a transport error: ending the call",
                            request_.callId, to == Leg::A ? "A" : "B");
        pendingReinvite_.erase(relay.from);
        manager_.stack().respond(relay.serverTxn, relayOf(resp));
        manager_.unbindServerTxn(relay.serverTxn);
        manager_.stack().releaseServerTxn(relay.serverTxn);
        manager_.unbindClientTxn(txn);
        manager_.stack().releaseClientTxn(txn);
        endFromSwitch("transport_error");
        return;
    }
    auto out = relayOf(resp);
    if (isSuccess(resp.status) && relay.method != "INFO") {
        // Each leg renegotiates its own session timer on a target refresh.
        const Leg to = other(relay.from);
        noteSdp(relay.from, relay.offer);
        noteSdp(to, resp.body);
        session(to).timer = acceptAsUac(resp.timer);
        const auto decision = negotiateAsUas(relay.requestTimer, params_->sessionTtl);
        session(relay.from).timer = decision.leg;
        out.timer = decision.answer;
        armSession(relay.from);
        armSession(to);
    }
    manager_.stack().respond(relay.serverTxn, out);
    if (resp.status < 200) {
        return;
    }
    if (relay.method == "INVITE") {
        pendingReinvite_.erase(relay.from);
        if (isSuccess(resp.status)) {
            // Both transactions stay until the ACK for this 2xx arrives (onAck).
            pendingAck_[relay.serverTxn] = {relay.from, txn};
            return;
        }
    }
    manager_.unbindServerTxn(relay.serverTxn);
    manager_.stack().releaseServerTxn(relay.serverTxn);
    manager_.unbindClientTxn(txn);
    manager_.stack().releaseClientTxn(txn);
}

bool B2bCall::retryReinvite(ClientTxnId txn, Relay& relay)
{
    const auto wait = params_->retryAfterTransportError;
    if (wait.count() == 0) {
        return false;  // SS_SIP_RETRY_AFTER_RELIABLE_TRANSPORT_ERROR 0: end the call
    }
    const auto nowMono = manager_.clock().monotonicNow();
    if (!relay.firstTransportError) {
        relay.firstTransportError = nowMono;
    }
    if (nowMono + wait > *relay.firstTransportError + params_->inviteRetryTimeout) {
        return false;  // resending may go on only within SS_SIP_INVITE_RETRY_TIMEOUT
    }
    manager_.unbindClientTxn(txn);
    manager_.stack().releaseClientTxn(txn);
    const std::uint32_t key = ++generations_;
    reinviteRetries_.emplace(key, relay);
    reinviteTimers_[key] = after(nowMono + wait, &B2bCall::onReinviteRetry, key);
    manager_.log().info("[{}] re-INVITE met a transport error: resending in {} ms",
                        request_.callId, wait.count());
    return true;
}

void B2bCall::onReinviteRetry(std::uint32_t key)
{
    auto it = reinviteRetries_.find(key);
    if (it == reinviteRetries_.end()) {
        return;
    }
    Relay relay = std::move(it->second);
    reinviteRetries_.erase(it);
    reinviteTimers_.erase(key);
    const DialogId target = dialogOf(other(relay.from));
    const ClientTxnId sent = target == 0 ? 0 : manager_.stack().sendInDialog(target, relay.sent);
    if (sent == 0) {
        pendingReinvite_.erase(relay.from);
        manager_.stack().respond(relay.serverTxn, reply(500, "Server Internal Error"));
        manager_.unbindServerTxn(relay.serverTxn);
        manager_.stack().releaseServerTxn(relay.serverTxn);
        endFromSwitch("transport_error");
        return;
    }
    manager_.bindClientTxn(sent, this);
    relays_[sent] = std::move(relay);
}

void B2bCall::onBye(Leg from, ServerTxnId txn)
{
    manager_.stack().respond(txn, reply(200, "OK"));
    manager_.stack().releaseServerTxn(txn);
    if (state_ == State::Confirmed || state_ == State::Answered) {
        if (from == Leg::A) {
            writeCdr(cdr::EndDirection::Caller, "caller_bye", "recv_bye", 200, "OK");
        } else {
            writeCdr(cdr::EndDirection::Callee, "callee_bye", "send_bye", 200, "OK");
        }
        if (state_ == State::Answered && attempt_ && attempt_->invite != 0) {
            finishAttempt(200, "answered");
        }
        sendBye(other(from));
        transition(byes_.empty() ? State::Done : State::Terminating);
        return;
    }
    if (from == Leg::A && (state_ == State::Early || state_ == State::Calling)) {
        // BYE in the caller's early dialog ends the call like a CANCEL would.
        manager_.stack().respond(aInvite_, reply(487, "Request Terminated"));
        writeCdr(cdr::EndDirection::Caller, "caller_bye", "recv_bye", 487,
                 "Request Terminated");
        enterPhase(Phase::None);
        manager_.stack().cancel(attempt_->invite);
        transition(State::Cancelling);
        armGuard();
    }
}

void B2bCall::sendBye(Leg leg)
{
    const DialogId dialog = dialogOf(leg);
    if (dialog == 0) {
        return;
    }
    SipRequest bye;
    bye.method = "BYE";
    const ClientTxnId txn = manager_.stack().sendInDialog(dialog, bye);
    if (txn == 0) {
        return;
    }
    manager_.bindClientTxn(txn, this);
    byes_.insert(txn);
    armGuard();
}

void B2bCall::terminate(const std::string& reason)
{
    switch (state_) {
    case State::Routing:
    case State::Calling:
    case State::Early:
        stopConnErrRetry();
        manager_.stack().respond(aInvite_, reply(503, "Service Unavailable"));
        writeCdr(cdr::EndDirection::Switch, reason, "send_refuse", 503, "Service Unavailable");
        if (attempt_ && attempt_->invite != 0) {
            enterPhase(Phase::None);
            manager_.stack().cancel(attempt_->invite);
            transition(State::Cancelling);
            armGuard();
        } else {
            transition(State::Done);
        }
        return;
    case State::Answered:
    case State::Confirmed:
        if (attempt_ && attempt_->invite != 0) {
            finishAttempt(200, "answered");
        }
        endFromSwitch(reason);
        return;
    case State::Cancelling:
    case State::Terminating:
        transition(State::Done);  // the drain limit is over: stop waiting
        return;
    case State::Done:
        return;
    }
}

void B2bCall::armGuard()
{
    if (guardTimer_ == 0) {
        guardTimer_ = after(manager_.clock().monotonicNow() + kGuardTime,
                            &B2bCall::onGuardExpired, 0);
    }
}

void B2bCall::cancelGuard()
{
    if (guardTimer_ != 0) {
        manager_.timers().cancel(guardTimer_);
        guardTimer_ = 0;
    }
}

void B2bCall::onGuardExpired(std::uint32_t)
{
    guardTimer_ = 0;
    manager_.log().warn("[{}] no final response from the callee side within {} s; releasing",
                        request_.callId, kGuardTime.count());
    transition(State::Done);
}

void B2bCall::writeCdr(cdr::EndDirection direction, const std::string& endReason,
                       const std::string& disposition, int code, const std::string& reason)
{
    if (cdrWritten_) {
        return;
    }
    cdrWritten_ = true;
    if (attempt_ && attempt_->invite != 0 && !isSuccess(code)) {
        // The B-leg INVITE is still pending (it is being cancelled): bill the attempt as
        // cancelled now; its transaction is released when its final response comes.
        recordAttempt(0, "cancelled");
    }
    cdr_.endAt = now();
    cdr_.endDirection = direction;
    cdr_.endReason = endReason;
    cdr_.disposition = disposition;
    cdr_.sipCode = cdr_.answerAt ? 200 : code;
    cdr_.sipReason = cdr_.answerAt ? "OK" : reason;
    cdr_.q850Cause = cdr::q850ForSip(cdr_.answerAt ? 200 : code);
    manager_.log().info("[{}] ended: {}/{} {} {}", request_.callId, cdr::toString(direction),
                        endReason, cdr_.sipCode, cdr_.sipReason);
    manager_.emitCdr(cdr::CdrRecord(cdr_));
}

void B2bCall::release()
{
    cancelGuard();
    stopConnErrRetry();
    for (auto& [key, timer] : reinviteTimers_) {
        cancelTimer(timer);
    }
    reinviteTimers_.clear();
    for (auto& [key, relay] : reinviteRetries_) {
        manager_.unbindServerTxn(relay.serverTxn);
        manager_.stack().respond(relay.serverTxn, reply(500, "Server Internal Error"));
        manager_.stack().releaseServerTxn(relay.serverTxn);
    }
    reinviteRetries_.clear();
    if (originAdmitted_) {
        manager_.load().release(origin_.name);
        originAdmitted_ = false;
    }
    if (attempt_ && attempt_->holdsLoad) {
        manager_.load().release(attempt_->target.gateway->name);
        attempt_->holdsLoad = false;
    }
    releaseSessions();
    cancelTimer(earlyHangupTimer_);
    if (attempt_) {
        cancelTimer(attempt_->resendTimer);
        cancelTimer(attempt_->phaseTimer);
    }
    auto& stack = manager_.stack();
    for (auto& [txn, relay] : relays_) {
        manager_.unbindClientTxn(txn);
        manager_.unbindServerTxn(relay.serverTxn);
        stack.releaseClientTxn(txn);
        stack.respond(relay.serverTxn, reply(500, "Server Internal Error"));
        stack.releaseServerTxn(relay.serverTxn);
    }
    relays_.clear();
    for (auto& [serverTxn, pending] : pendingAck_) {
        manager_.unbindServerTxn(serverTxn);
        manager_.unbindClientTxn(pending.clientTxn);
        stack.releaseServerTxn(serverTxn);
        stack.releaseClientTxn(pending.clientTxn);
    }
    pendingAck_.clear();
    for (ClientTxnId txn : byes_) {
        manager_.unbindClientTxn(txn);
        stack.releaseClientTxn(txn);
    }
    byes_.clear();
    if (attempt_) {
        if (attempt_->invite != 0) {
            manager_.unbindClientTxn(attempt_->invite);
            stack.releaseClientTxn(attempt_->invite);
        }
        if (attempt_->dialog != 0) {
            manager_.unbindDialog(attempt_->dialog);
            stack.releaseDialog(attempt_->dialog);
        }
        attempt_.reset();
    }
    if (aDialog_ != 0) {
        manager_.unbindDialog(aDialog_);
        stack.releaseDialog(aDialog_);
        aDialog_ = 0;
    }
    if (aInvite_ != 0) {
        manager_.unbindServerTxn(aInvite_);
        stack.releaseServerTxn(aInvite_);
        aInvite_ = 0;
    }
}

}  // namespace ss::sig
