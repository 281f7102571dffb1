// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cdr/call_journal.h"
#include "cdr/cdr_record.h"
#include "common/clock.h"
#include "common/live_state.h"
#include "common/params.h"
#include "common/timer_service.h"
#include "routing/routing_table.h"
#include "routing/gateway_availability.h"
#include "routing/gateway_health.h"
#include "routing/gateway_load.h"
#include "switch/b2b_call.h"
#include "switch/gateway_prober.h"
#include "switch/overload_guard.h"
#include "switch/publish_handler.h"
#include "switch/sip_stack.h"

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>

namespace spdlog {
class logger;
}

namespace ss::sig {

/// Gateway state that every SIP thread's CallManager shares, so that a gateway's `--capacity`
/// and `--cps` hold for the whole switch, a blacklisted address is avoided by every call, and a
/// PUBLISH heartbeat received by one thread counts for all. Each part locks itself.
struct SharedGateways {
    routing::GatewayAvailability availability;
    routing::GatewayHealth health;
    routing::GatewayLoad load;
};

struct CallManagerConfig {
    std::string node;  // written into every CDR
    /// Shared with the other SIP threads' managers; null = this manager's own.
    std::shared_ptr<SharedGateways> gateways;
    /// Whether this manager sends the OPTIONS probes (options-ping): one SIP thread does, for
    /// all, since the health they feed is shared.
    bool probes = true;
};

/// Owns every call of one SIP thread and routes stack events to them by transaction and dialog
/// id. Answers what belongs to no call (OPTIONS, unknown sources, stray requests). Everything
/// here runs on its sip-loop, so nothing of its own is locked; the gateway state it shares
/// with the other SIP threads (SharedGateways) locks itself. Thread: sip-loop (every public
/// method).
class CallManager final : public SipEvents {
public:
    /// Hands a finished CDR to the writer; returns its ticket (CdrWriter::submit).
    using CdrSink = std::function<std::uint64_t(cdr::CdrRecord&&)>;

    CallManager(SipStack& stack, const common::Clock& clock, common::TimerService& timers,
                CdrSink cdrSink, CallManagerConfig config);
    ~CallManager() override;

    /// Installs a new routing snapshot; calls in progress keep theirs.
    void setRoutingTable(std::shared_ptr<const routing::RoutingTable> table);
    /// Installs new switch parameters; new calls and the timers they arm use them, calls in
    /// progress keep theirs.
    void setParams(std::shared_ptr<const common::SwitchParams> params) { params_ = std::move(params); }
    const std::shared_ptr<const common::SwitchParams>& params() const { return params_; }
    /// New INVITEs get 503 from now on (SIGTERM drain).
    void stopAccepting() { accepting_ = false; }
    /// Ends every call from the switch side with `reason` (e.g. shutdown).
    void terminateAll(const std::string& reason);
    std::size_t activeCalls() const { return calls_.size(); }
    /// A copy of the live calls, gateways with their health and load, and the call counters
    /// (the HTTP API; the daemon adds the CDR writer's and the stack's figures).
    common::LiveState liveState() const;
    /// One live state from every SIP thread's (calls together, counters added up).
    static common::LiveState merge(std::vector<common::LiveState> states);
    /// An attempt ended with `outcome` (cdr_attempt.outcome) at termination gateway `gateway`.
    void countAttempt(const std::string& gateway, const std::string& outcome);
    /// One more INVITE copy sent by the switch's own resend schedule (SS_SIP_RESEND_INTERVAL).
    void countResend() { ++inviteResends_; }
    /// A call was answered (counted at the answer, not when its CDR is written).
    void countAnswered() { ++callsAnswered_; }

    // SipEvents
    void onNewInvite(ServerTxnId txn, const SipRequest& req) override;
    void onOutOfDialogRequest(ServerTxnId txn, const SipRequest& req) override;
    void onDialogRequest(DialogId dialog, ServerTxnId txn, const SipRequest& req) override;
    void onCancel(ServerTxnId txn) override;
    void onAck(ServerTxnId txn, const SipRequest& ack) override;
    void onAckTimeout(ServerTxnId txn) override;
    void onResponse(ClientTxnId txn, const SipResponse& resp) override;

    // Used by B2bCall.
    SipStack& stack() { return stack_; }
    const common::Clock& clock() const { return clock_; }
    common::TimerService& timers() { return timers_; }
    const CallManagerConfig& config() const { return config_; }
    spdlog::logger& log() { return *log_; }
    /// Live availability (PUBLISH heartbeats) consulted when a call picks its gateways.
    const routing::GatewayAvailability& availability() const { return gateways_->availability; }
    /// Health of termination addresses, shared by every call (seed 001).
    routing::GatewayHealth& health() { return gateways_->health; }
    /// Concurrent calls and CPS per gateway (origination and termination).
    routing::GatewayLoad& load() { return gateways_->load; }
    /// The weighted choice among gateways of equal priority.
    std::mt19937_64& random() { return random_; }
    /// Seeds the weighted choice (tests); otherwise it is seeded from std::random_device.
    void seedRandom(std::uint64_t seed) { random_.seed(seed); }
    /// Crash journal (issue 5 §3): calls in progress are journalled at start and answer, and
    /// a heartbeat every kJournalBeat; a final CDR is journalled before it goes to the writer.
    /// nullptr (the default) journals nothing.
    void setJournal(cdr::CallJournal* journal);
    /// Overload control (OverloadGuard): `backlog` says what waits in the SIP receive queues;
    /// it is probed every OverloadGuard::kProbeEvery on the sip-loop, and new calls get 503 +
    /// Retry-After while the guard sheds. Null: no overload control.
    void setOverloadProbe(std::function<ReceiveBacklog()> backlog,
                          OverloadGuard::Limits limits = {});
    static constexpr auto kJournalBeat = std::chrono::seconds(2);
    void journalProgress(const cdr::CdrRecord& partial, bool answered);
    void emitCdr(cdr::CdrRecord&& record);
    void bindServerTxn(ServerTxnId txn, B2bCall* call) { serverTxns_[txn] = call; }
    void bindClientTxn(ClientTxnId txn, B2bCall* call) { clientTxns_[txn] = call; }
    void bindDialog(DialogId dialog, B2bCall* call, Leg leg) { dialogs_[dialog] = {call, leg}; }
    void unbindServerTxn(ServerTxnId txn) { serverTxns_.erase(txn); }
    void unbindClientTxn(ClientTxnId txn) { clientTxns_.erase(txn); }
    void unbindDialog(DialogId dialog) { dialogs_.erase(dialog); }
    /// Runs `fn` on `call`, then destroys the call if it is done.
    template <typename Fn>
    void dispatch(B2bCall* call, Fn&& fn)
    {
        fn(*call);
        reapIfDone(call);
    }

private:
    struct DialogRef {
        B2bCall* call;
        Leg leg;
    };
    void reapIfDone(B2bCall* call);
    void onJournalBeat();
    void onOverloadProbe();
    void respondSimple(ServerTxnId txn, int code, const std::string& reason);

    SipStack& stack_;
    const common::Clock& clock_;
    common::TimerService& timers_;
    CdrSink cdrSink_;
    CallManagerConfig config_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<const routing::RoutingTable> table_;
    std::shared_ptr<const common::SwitchParams> params_ =
        std::make_shared<const common::SwitchParams>(common::SwitchParams::fromStored({}));
    bool accepting_ = true;
    std::shared_ptr<SharedGateways> gateways_ =
        config_.gateways ? config_.gateways : std::make_shared<SharedGateways>();
    PublishHandler publish_{clock_, gateways_->availability};
    std::mt19937_64 random_{std::random_device{}()};
    GatewayProber prober_{stack_, clock_, timers_, gateways_->health};
    cdr::CallJournal* journal_ = nullptr;
    common::TimerId journalTimer_ = 0;
    OverloadGuard overload_;
    std::function<ReceiveBacklog()> backlog_;
    common::Millis lastReceiveWait_{0};  // the last probe's, for the live state
    common::TimerId overloadTimer_ = 0;
    std::uint64_t callsShed_ = 0;          // new calls refused by the overload guard
    std::uint64_t callsShedEpisode_ = 0;   // ... since the current shedding began
    std::unordered_map<B2bCall*, std::unique_ptr<B2bCall>> calls_;
    // Counters since start (metrics).
    struct GatewayCounters {
        std::uint64_t attempts = 0;
        std::map<std::string, std::uint64_t> outcomes;
    };
    std::unordered_map<std::string, GatewayCounters> gatewayCounters_;
    std::uint64_t callsOffered_ = 0;
    std::uint64_t callsAnswered_ = 0;
    std::uint64_t callsEnded_ = 0;
    std::map<std::string, std::uint64_t> endReasons_;
    std::uint64_t inviteResends_ = 0;
    std::uint64_t reloads_ = 0;  // routing snapshots installed, the first one included
    std::unordered_map<ServerTxnId, B2bCall*> serverTxns_;
    std::unordered_map<ClientTxnId, B2bCall*> clientTxns_;
    std::unordered_map<DialogId, DialogRef> dialogs_;
};

}  // namespace ss::sig
