// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cdr/cdr_record.h"
#include "common/live_state.h"
#include "common/params.h"
#include "common/timer_service.h"
#include "routing/routing_table.h"
#include "routing/selection.h"
#include "switch/session_timer.h"
#include "switch/sip_stack.h"

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ss::sig {

class CallManager;

/// Which side of the B2BUA: A = the caller (origination), B = the callee (termination).
enum class Leg {
    A,  // we are UAS
    B,  // we are UAC
};

/// One call: the A-leg (UAS) and its current B-leg (UAC), the attempt chain, and the CDR being
/// built. Lives on the sip-loop; every method is `// Thread: sip-loop`. The manager routes
/// events to it by transaction and dialog id and destroys it once `done()`.
class B2bCall {
public:
    enum class State {
        Routing,      // A's INVITE received, no B-leg yet
        Calling,      // B-leg INVITE sent; nothing or only 100 received
        Early,        // a 18x was relayed to the caller
        Answered,     // 2xx relayed to the caller, waiting for the caller's ACK
        Confirmed,    // both legs established
        Cancelling,   // the caller cancelled; waiting for the B-leg's final response
        Terminating,  // CDR written; waiting for the last B-leg response before release
        Done,         // nothing left; the manager destroys the call
    };

    B2bCall(CallManager& manager, ServerTxnId invite, SipRequest request,
            const common::GatewayConfig& origin,
            std::shared_ptr<const routing::RoutingTable> table,
            std::shared_ptr<const common::SwitchParams> params);
    ~B2bCall();
    B2bCall(const B2bCall&) = delete;
    B2bCall& operator=(const B2bCall&) = delete;

    /// Routes the call and sends the first attempt, or rejects it. Thread: sip-loop.
    void start();
    /// The caller CANCELled (RFC 3261 §9.2). Thread: sip-loop.
    void onCancel();
    /// An ACK for the 2xx we sent on INVITE `txn` (the caller's initial INVITE, or a relayed
    /// re-INVITE on either leg). Thread: sip-loop.
    void onAck(ServerTxnId txn, const SipRequest& ack);
    /// No ACK for the 2xx sent on `txn`. Thread: sip-loop.
    void onAckTimeout(ServerTxnId txn);
    /// A request inside one of our dialogs (ACK has txn 0). Thread: sip-loop.
    void onDialogRequest(Leg leg, ServerTxnId txn, const SipRequest& req);
    /// A response to one of our client transactions. Thread: sip-loop.
    void onResponse(ClientTxnId txn, const SipResponse& resp);
    /// Ends the call from the switch side (shutdown, limits): BYE or CANCEL as the state
    /// requires, CDR `switch`/`reason`. Thread: sip-loop.
    void terminate(const std::string& reason);

    /// The guard timer fired: stop waiting for the B-leg. Thread: sip-loop.
    void onGuardExpired(std::uint32_t unused);

    State state() const { return state_; }
    bool done() const { return state_ == State::Done; }
    const std::string& callId() const { return request_.callId; }
    /// What the HTTP API shows of this call (`swctl calls`). Thread: sip-loop.
    common::LiveCall live(common::MonoTime nowMono, common::SysTime nowSys) const;

private:
    /// What the attempt's phase timer is waiting for (SPEC §2 SS_SIP_TIMEOUT_*).
    enum class Phase {
        Invite,   // any response at all (TIMEOUT_INVITE)
        Trying,   // 18x or 2xx after a 100 (TIMEOUT_TRYING)
        Ringing,  // 2xx after a 18x (TIMEOUT_RINGING)
        None,     // answered or over
    };
    struct Attempt {
        routing::Target target;
        std::uint32_t generation = 0;  // stale timer guard
        DialogId dialog = 0;
        ClientTxnId invite = 0;
        bool sentSdp = false;   // the gateway sent SDP (early media or answer)
        bool recorded = false;  // its cdr_attempt row is written
        bool answeredAtAll = false;  // any response came from the address (it is alive)
        bool holdsLoad = false;      // counted in the gateway's capacity until released
        common::SysTime startedAt{};
        common::MonoTime startedMono{};
        Phase phase = Phase::None;
        std::vector<std::chrono::milliseconds> resend;  // waits still in use (UDP only)
        std::size_t copies = 0;                         // retransmissions sent
        common::TimerId resendTimer = 0;
        common::TimerId phaseTimer = 0;
        common::MonoTime phaseDue{};  // when phaseTimer fires (live view)
    };
    /// An in-dialog request relayed from one leg to the other, waiting for its response.
    struct Relay {
        Leg from;
        ServerTxnId serverTxn;
        std::string method;
        SessionTimerFields requestTimer;  // what `from` asked for (we answer as its UAS)
        std::string offer;                // its SDP; the legs' SDP changes only on a 2xx
        SipRequest sent;                  // as sent to the other leg (resent after an error)
        std::optional<common::MonoTime> firstTransportError;  // seed 002 retry window start
    };
    /// Genesys reliable-connection retry of one termination gateway (SPEC §3, seed 000).
    struct ConnErrRetry {
        routing::Target destination;        // retrydest-on-conerr
        std::chrono::milliseconds interval;  // connerr-retry-timeout
        int retriesLeft = 0;                 // of connerr-max-retries
        common::TimerId timer = 0;           // the next retry, then Timer F
        common::TimerId timerF = 0;          // 64×T1 after the first try: 408 to the caller
    };
    /// Per-leg session state: the RFC 4028 timer agreed on this leg (or the no-timer
    /// keep-alive), and the SDP last exchanged on it, so a refresh with unchanged SDP is
    /// answered here instead of becoming a new offer on the other leg.
    enum class RefreshKind {
        Session,    // RFC 4028 refresh, we are the refresher
        KeepAlive,  // SS_SIP_NO_TIMER_REINVITE_INTERVAL for a leg without session timers
    };
    struct LegSession {
        LegSessionTimer timer;
        bool allowsUpdate = false;
        std::string sdpSent;      // last SDP we sent on this leg
        std::string sdpReceived;  // last SDP this leg sent us
        common::TimerId timerId = 0;  // refresh, expiry or keep-alive
        common::MonoTime timerDue{};   // when timerId fires (live view)
        ClientTxnId refreshTxn = 0;
        RefreshKind refreshKind = RefreshKind::Session;
    };

    void transition(State to);
    void tryNextGateway();
    /// Sends the INVITE of one attempt to `target` (false: nothing could be sent).
    bool startAttempt(const routing::Target& target);
    /// After a failed attempt: retry the same destination (connerr, seed 000) or try the
    /// next target.
    void afterFailedAttempt(bool transportError);
    bool startConnErrRetry();
    void onConnErrRetry(std::uint32_t generation);
    void onTimerF(std::uint32_t generation);
    void stopConnErrRetry();
    /// Seed 002: a relayed re-INVITE met a reliable transport error; false when the call
    /// must end instead.
    bool retryReinvite(ClientTxnId txn, Relay& relay);
    void onReinviteRetry(std::uint32_t key);
    void onInviteResponse(const SipResponse& resp);
    void onInviteFailure(const SipResponse& resp);
    void relayInDialog(Leg from, ServerTxnId txn, const SipRequest& req);
    void onRelayedResponse(ClientTxnId txn, Relay relay, const SipResponse& resp);
    void onBye(Leg from, ServerTxnId txn);
    void answerAckArrived(const SipRequest& ack);

    // Session timers and keep-alive (b2b_call_session.cpp).
    LegSession& session(Leg leg) { return legs_[leg == Leg::A ? 0 : 1]; }
    void noteSdp(Leg from, const std::string& body);
    void armSession(Leg leg);
    void onLegTimer(std::uint32_t legIndex);
    void sendRefresh(Leg leg, RefreshKind kind);
    bool isRefreshTxn(ClientTxnId txn) const;
    void onRefreshResponse(ClientTxnId txn, const SipResponse& resp);
    /// A re-INVITE or UPDATE that changes nothing but the session timer: answered on this
    /// leg, not relayed (SPEC: a refresh is not forwarded as a new offer).
    bool isPureRefresh(Leg leg, const SipRequest& req) const;
    void answerRefresh(Leg leg, ServerTxnId txn, const SipRequest& req);
    void endFromSwitch(const std::string& reason);
    void releaseSessions();
    void rejectCaller(int code, const std::string& reason, cdr::EndDirection direction,
                      const std::string& endReason);
    /// Adds the attempt's cdr_attempt row (once).
    void recordAttempt(int code, const std::string& outcome);
    /// recordAttempt, then releases the attempt's INVITE (and its dialog unless answered).
    void finishAttempt(int code, const std::string& outcome);
    void sendBye(Leg leg);
    void armGuard();
    void cancelGuard();
    /// Arms a timer that runs `fn(generation)` through the manager's dispatch.
    common::TimerId after(common::MonoTime at, void (B2bCall::*fn)(std::uint32_t),
                          std::uint32_t generation);
    void cancelTimer(common::TimerId& id);
    void armResend();
    void onResendTimer(std::uint32_t generation);
    void enterPhase(Phase phase);
    void onPhaseTimeout(std::uint32_t generation);
    void onEarlyHangup(std::uint32_t generation);
    /// The attempt failed without a final response (timeout or list exhausted): give up the
    /// transaction (CANCEL it when a provisional came) and try the next gateway.
    void abandonAttempt(const std::string& outcome);
    void writeCdr(cdr::EndDirection direction, const std::string& endReason,
                  const std::string& disposition, int code, const std::string& reason);
    void release();
    common::SysTime now() const;
    DialogId dialogOf(Leg leg) const;
    Leg other(Leg leg) const { return leg == Leg::A ? Leg::B : Leg::A; }

    CallManager& manager_;
    State state_ = State::Routing;
    ServerTxnId aInvite_;
    DialogId aDialog_ = 0;
    SipRequest request_;
    const common::GatewayConfig& origin_;
    std::shared_ptr<const routing::RoutingTable> table_;  // keeps gateway pointers alive
    std::shared_ptr<const common::SwitchParams> params_;  // as when the call started
    std::uint32_t generations_ = 0;
    common::TimerId earlyHangupTimer_ = 0;
    common::MonoTime earlyHangupDue_{};
    UasSessionDecision aSession_;     // the caller's INVITE, negotiated
    std::uint32_t uacMinSe_ = 90;     // raised by a 422 from the callee side
    bool retried422_ = false;
    bool reliableToCaller_ = false;   // 18x to the caller go out reliably (RFC 3262)
    std::array<LegSession, 2> legs_;  // [A, B]
    std::vector<routing::Target> targets_;  // this call's plan (routing/selection.h)
    std::size_t nextTarget_ = 0;
    std::set<std::string> gatewaysTried_;   // for SS_GATEWAY_SWITCH_LIMIT
    bool originAdmitted_ = false;           // counted in the origination gateway's limits
    std::optional<ConnErrRetry> connErr_;
    SipResponse lastRejection_;  // the last final error a gateway sent (all gateways failed)
    std::map<std::uint32_t, Relay> reinviteRetries_;  // waiting to be resent, by timer key
    std::map<std::uint32_t, common::TimerId> reinviteTimers_;
    std::optional<Attempt> attempt_;
    cdr::CdrRecord cdr_;
    bool cdrWritten_ = false;
    common::MonoTime setupMono_{};
    std::map<ClientTxnId, Relay> relays_;
    std::set<ClientTxnId> byes_;  // BYEs we sent, waiting for their response
    /// A relayed re-INVITE answered 2xx: when its server transaction is ACKed, ACK the client
    /// transaction on the other leg (§13.2.2.4, end to end).
    struct PendingAck {
        Leg from;
        ClientTxnId clientTxn;
    };
    std::map<ServerTxnId, PendingAck> pendingAck_;
    std::map<Leg, ServerTxnId> pendingReinvite_;  // re-INVITE in progress, received on Leg
    common::TimerId guardTimer_ = 0;
};

const char* toString(B2bCall::State state);

}  // namespace ss::sig
