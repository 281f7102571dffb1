// SPDX-License-Identifier: Apache-2.0
#include "switch/call_manager.h"

#include "common/log.h"
#include "routing/selection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace ss::sig {

CallManager::CallManager(SipStack& stack, const common::Clock& clock,
                         common::TimerService& timers, CdrSink cdrSink, CallManagerConfig config)
    : stack_(stack),
      clock_(clock),
      timers_(timers),
      cdrSink_(std::move(cdrSink)),
      config_(std::move(config)),
      log_(common::logger("call"))
{
}

CallManager::~CallManager()
{
    calls_.clear();
    if (journalTimer_ != 0) {
        timers_.cancel(journalTimer_);
    }
    if (overloadTimer_ != 0) {
        timers_.cancel(overloadTimer_);
    }
}

void CallManager::setJournal(cdr::CallJournal* journal)
{
    journal_ = journal;
    if (journalTimer_ != 0) {
        timers_.cancel(journalTimer_);
        journalTimer_ = 0;
    }
    if (journal_ != nullptr) {
        journalTimer_ = timers_.schedule(clock_.monotonicNow() + kJournalBeat,
                                         [this] { onJournalBeat(); });
    }
}

void CallManager::onJournalBeat()
{
    if (!calls_.empty()) {
        journal_->beat(clock_.systemNow());
    }
    journalTimer_ = timers_.schedule(clock_.monotonicNow() + kJournalBeat,
                                     [this] { onJournalBeat(); });
}

void CallManager::setOverloadProbe(std::function<ReceiveBacklog()> backlog,
                                   OverloadGuard::Limits limits)
{
    if (overloadTimer_ != 0) {
        timers_.cancel(overloadTimer_);
        overloadTimer_ = 0;
    }
    overload_ = OverloadGuard(limits);
    backlog_ = std::move(backlog);
    if (backlog_) {
        onOverloadProbe();
    }
}

void CallManager::onOverloadProbe()
{
    const ReceiveBacklog backlog = backlog_();
    lastReceiveWait_ = backlog.oldestWait;
    if (overload_.sample(backlog, clock_.monotonicNow())) {
        if (overload_.limiting()) {
            callsShedEpisode_ = 0;
            log_->warn("overload: the oldest SIP datagram waited {} ms to be read ({} KiB "
                       "queued); new calls limited to {:.0f}/s, the rest get 503",
                       backlog.oldestWait.count(), backlog.bytes / 1024,
                       overload_.callsPerSecond());
        } else {
            log_->warn("overload over: {} new calls were refused with 503", callsShedEpisode_);
        }
    }
    overloadTimer_ = timers_.schedule(clock_.monotonicNow() + OverloadGuard::kProbeEvery,
                                      [this] { onOverloadProbe(); });
}

void CallManager::journalProgress(const cdr::CdrRecord& partial, bool answered)
{
    if (journal_ == nullptr) {
        return;
    }
    if (answered) {
        journal_->answered(partial);
    } else {
        journal_->started(partial);
    }
}

void CallManager::emitCdr(cdr::CdrRecord&& record)
{
    ++callsEnded_;
    ++endReasons_[record.endReason];
    if (journal_ == nullptr) {
        cdrSink_(std::move(record));
        return;
    }
    // Journalled first: a crash right after still finds the final CDR.
    journal_->ended(record, [&] { return cdrSink_(std::move(record)); });
}

void CallManager::setRoutingTable(std::shared_ptr<const routing::RoutingTable> table)
{
    table_ = std::move(table);
    ++reloads_;
    if (table_ && config_.probes) {
        prober_.configure(*table_);
    }
}

void CallManager::respondSimple(ServerTxnId txn, int code, const std::string& reason)
{
    stack_.respond(txn, reply(code, reason));
    stack_.releaseServerTxn(txn);
}

void CallManager::onNewInvite(ServerTxnId txn, const SipRequest& req)
{
    if (!req.to.tag.empty()) {
        // A re-INVITE for a dialog we do not know (RFC 3261 §12.2.2).
        respondSimple(txn, 481, "Call/Transaction Does Not Exist");
        return;
    }
    const common::GatewayConfig* origin =
        table_ ? table_->originationFor(req.sourceIp, req.sourcePort) : nullptr;
    if (origin == nullptr) {
        // SPEC §5: unknown sources get 403 and leave nothing behind (no call, no CDR).
        log_->info("[{}] INVITE from unknown source {}:{} refused", req.callId, req.sourceIp,
                   req.sourcePort);
        respondSimple(txn, 403, "Forbidden");
        return;
    }
    if (!accepting_) {
        respondSimple(txn, 503, "Service Unavailable");
        return;
    }
    if (!overload_.admit(clock_.monotonicNow())) {
        // No call, no CDR: refused before it started, like a call during shutdown. Counted
        // (softswitch_calls_shed_total) and logged when the shedding ends.
        ++callsShed_;
        ++callsShedEpisode_;
        auto res = reply(503, "Service Unavailable");
        res.relayHeaders.push_back({"Retry-After", "1"});
        stack_.respond(txn, res);
        stack_.releaseServerTxn(txn);
        return;
    }
    auto call = std::make_unique<B2bCall>(*this, txn, req, *origin, table_, params_);
    B2bCall* raw = call.get();
    calls_.emplace(raw, std::move(call));
    ++callsOffered_;
    log_->info("[{}] new call {} -> {} from {}", req.callId, req.from.user, req.requestUser,
               origin->name);
    dispatch(raw, [](B2bCall& c) { c.start(); });
}

void CallManager::onOutOfDialogRequest(ServerTxnId txn, const SipRequest& req)
{
    if (req.method == "OPTIONS") {
        respondSimple(txn, 200, "OK");
        return;
    }
    if (req.method == "PUBLISH" && table_) {
        stack_.respond(txn, publish_.handle(req, *table_, *params_));
        stack_.releaseServerTxn(txn);
        return;
    }
    if (!req.to.tag.empty()) {
        respondSimple(txn, 481, "Call/Transaction Does Not Exist");
        return;
    }
    respondSimple(txn, 405, "Method Not Allowed");
}

void CallManager::onDialogRequest(DialogId dialog, ServerTxnId txn, const SipRequest& req)
{
    auto it = dialogs_.find(dialog);
    if (it == dialogs_.end()) {
        if (txn != 0) {
            respondSimple(txn, 481, "Call/Transaction Does Not Exist");
        }
        return;
    }
    const DialogRef ref = it->second;
    dispatch(ref.call, [&](B2bCall& c) { c.onDialogRequest(ref.leg, txn, req); });
}

void CallManager::onCancel(ServerTxnId txn)
{
    auto it = serverTxns_.find(txn);
    if (it == serverTxns_.end()) {
        return;  // the stack answers 487 itself
    }
    dispatch(it->second, [](B2bCall& c) { c.onCancel(); });
}

void CallManager::onAck(ServerTxnId txn, const SipRequest& ack)
{
    auto it = serverTxns_.find(txn);
    if (it == serverTxns_.end()) {
        return;
    }
    dispatch(it->second, [&](B2bCall& c) { c.onAck(txn, ack); });
}

void CallManager::onAckTimeout(ServerTxnId txn)
{
    auto it = serverTxns_.find(txn);
    if (it == serverTxns_.end()) {
        return;
    }
    dispatch(it->second, [&](B2bCall& c) { c.onAckTimeout(txn); });
}

void CallManager::onResponse(ClientTxnId txn, const SipResponse& resp)
{
    if (prober_.onResponse(txn, resp)) {
        return;
    }
    auto it = clientTxns_.find(txn);
    if (it == clientTxns_.end()) {
        return;
    }
    dispatch(it->second, [&](B2bCall& c) { c.onResponse(txn, resp); });
}

void CallManager::terminateAll(const std::string& reason)
{
    std::vector<B2bCall*> all;
    all.reserve(calls_.size());
    for (auto& [raw, owned] : calls_) {
        all.push_back(raw);
    }
    for (B2bCall* call : all) {
        dispatch(call, [&](B2bCall& c) { c.terminate(reason); });
    }
}

void CallManager::reapIfDone(B2bCall* call)
{
    if (call->done()) {
        calls_.erase(call);  // ~B2bCall releases its stack objects and unbinds its ids
    }
}

}  // namespace ss::sig

namespace ss::sig {

void CallManager::countAttempt(const std::string& gateway, const std::string& outcome)
{
    auto& c = gatewayCounters_[gateway];
    ++c.attempts;
    ++c.outcomes[outcome];
}

common::LiveState CallManager::liveState() const
{
    common::LiveState state;
    const auto nowMono = clock_.monotonicNow();
    state.at = clock_.systemNow();
    state.node = config_.node;
    state.calls.reserve(calls_.size());
    for (const auto& [raw, call] : calls_) {
        state.calls.push_back(call->live(nowMono, state.at));
    }
    std::sort(state.calls.begin(), state.calls.end(),
              [](const common::LiveCall& a, const common::LiveCall& b) {
                  return a.setupAt < b.setupAt;
              });

    auto& counters = state.counters;
    counters.callsOffered = callsOffered_;
    counters.callsAnswered = callsAnswered_;
    counters.callsShed = callsShed_;
    counters.overloaded = overload_.limiting();
    counters.sipReceiveWaitMs = lastReceiveWait_.count();
    counters.callsEnded = callsEnded_;
    counters.endReasons = endReasons_;
    counters.retransmissions = inviteResends_ + stack_.retransmissions();
    counters.reloads = reloads_;
    if (!table_) {
        return state;
    }
    for (const auto& gw : table_->provisioning().gateways) {
        common::LiveGateway live;
        live.name = gw.name;
        live.role = common::toString(gw.role);
        live.enabled = gw.enabled;
        live.site = gw.site;
        live.transport = common::toString(gw.transport);
        live.published = gateways_->availability.usable(gw.name, nowMono);
        const auto ping = gw.options.find("options-ping");
        live.probing = ping != gw.options.end() && ping->second != "0";
        live.activeCalls = gateways_->load.active(gw.name);
        live.capacity = gw.capacity;
        live.callsLastSecond = gateways_->load.callsLastSecond(gw.name, nowMono);
        live.cpsLimit = gw.cps;
        if (gw.role == common::GatewayRole::Origination) {
            counters.callsLastSecond += live.callsLastSecond;
        } else {
            for (const auto& ip : table_->addresses(gw)) {
                common::LiveAddress a;
                a.addr = routing::formatAddress(ip, gw.port);  // the health key, IP:PORT
                const auto& health = gateways_->health;
                a.health = routing::toString(health.state(a.addr, nowMono));
                a.penalty = health.penalty(a.addr, nowMono);
                a.lastError = health.lastError(a.addr);
                if (!a.lastError.empty()) {
                    live.lastError = a.lastError;
                }
                live.addresses.push_back(std::move(a));
            }
        }
        if (const auto it = gatewayCounters_.find(gw.name); it != gatewayCounters_.end()) {
            live.attempts = it->second.attempts;
            live.outcomes = it->second.outcomes;
        }
        state.gateways.push_back(std::move(live));
    }
    return state;
}

common::LiveState CallManager::merge(std::vector<common::LiveState> states)
{
    if (states.empty()) {
        return {};
    }
    common::LiveState all = std::move(states.front());
    for (std::size_t i = 1; i < states.size(); ++i) {
        auto& one = states[i];
        std::move(one.calls.begin(), one.calls.end(), std::back_inserter(all.calls));
        auto& sum = all.counters;
        const auto& add = one.counters;
        sum.callsOffered += add.callsOffered;
        sum.callsAnswered += add.callsAnswered;
        sum.callsEnded += add.callsEnded;
        sum.callsShed += add.callsShed;
        sum.overloaded = sum.overloaded || add.overloaded;
        sum.sipReceiveWaitMs = std::max(sum.sipReceiveWaitMs, add.sipReceiveWaitMs);
        for (const auto& [reason, n] : add.endReasons) {
            sum.endReasons[reason] += n;
        }
        sum.retransmissions += add.retransmissions;
        // Every thread installs every snapshot, and the per-gateway load and CPS are shared:
        // `reloads` and `callsLastSecond` are the same figure in each, not parts of a sum.
        for (const auto& gw : one.gateways) {
            const auto it = std::find_if(all.gateways.begin(), all.gateways.end(),
                                         [&](const auto& g) { return g.name == gw.name; });
            if (it == all.gateways.end()) {
                continue;  // a snapshot this thread has and the first one not yet
            }
            it->attempts += gw.attempts;
            for (const auto& [outcome, n] : gw.outcomes) {
                it->outcomes[outcome] += n;
            }
        }
    }
    std::sort(all.calls.begin(), all.calls.end(),
              [](const common::LiveCall& a, const common::LiveCall& b) {
                  return a.setupAt < b.setupAt;
              });
    return all;
}

}  // namespace ss::sig
