// SPDX-License-Identifier: Apache-2.0
#include "switch/sofia/sofia_runtime.h"

#include "common/config_error.h"
#include "common/log.h"
#include "common/timer_queue.h"
#include "switch/sofia/call_steering.h"
#include "switch/sofia/sip_convert.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include <spdlog/spdlog.h>

#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <unordered_map>

extern "C" {
extern su_log_t nta_log[];
extern su_log_t tport_log[];
// Exported by libsofia-sip-ua but missing from the public nta_tag.h ("internal"): a prepared
// but unsent INVITE whose copies the application sends (shared/notes/sofia-sip.md §1.2).
extern tag_typedef_t ntatag_delay_sending;
}
#define SS_NTATAG_DELAY_SENDING(x) ntatag_delay_sending, tag_bool_v((x))

namespace ss::sig {

namespace {

struct TxnCtx;
struct LegCtx;
struct IrqCtx;
struct SipTraceLog;

}  // namespace

struct SofiaRuntime::Impl final : SipStack {
    Impl(const std::vector<ListenPoint>& listen, const common::Clock& clock, SipShard shard);
    void enableSipTrace();
    ~Impl() override;

    // SipStack
    DialogId acceptDialog(ServerTxnId txn) override;
    void respond(ServerTxnId txn, const SipResponse& resp) override;
    void releaseServerTxn(ServerTxnId txn) override;
    Started startDialog(const NewDialog& dialog, const SipRequest& invite) override;
    ClientTxnId sendInDialog(DialogId dialog, const SipRequest& req) override;
    void ack(DialogId dialog, ClientTxnId invite, const std::string& contentType,
             const std::string& body) override;
    bool retransmit(ClientTxnId txn) override;
    ClientTxnId sendRequest(const SipTarget& target, const SipRequest& req) override;
    void cancel(ClientTxnId txn) override;
    void releaseClientTxn(ClientTxnId txn) override;
    void releaseDialog(DialogId dialog) override;
    std::uint64_t retransmissions() const override;

    // From the trampolines.
    int onLegRequest(LegCtx* leg, nta_incoming_t* irq, const sip_t* sip);
    void onIrqEvent(ServerTxnId txn, nta_incoming_t* irq, const sip_t* sip);
    void onOrqResponse(TxnCtx* ctx, nta_outgoing_t* orq, const sip_t* sip);
    void prack(TxnCtx* ctx, nta_outgoing_t* orq, const sip_t* sip);
    void onTimer();
    void onWakeup();

    /// Delivers stack events without re-entering the call layer: an event raised while an
    /// event or command is running (nta may answer synchronously) is queued until it returns.
    template <typename Fn>
    void deliver(Fn&& fn);
    void armTimer();
    ServerTxnId adoptIrq(nta_incoming_t* irq, const sip_t* sip);
    std::string contactFor(common::Transport transport) const;
    sip_contact_t* contactHeader(su_home_t* home, common::Transport transport) const;

    const common::Clock& clock_;
    std::shared_ptr<spdlog::logger> log_ = common::logger("sip");
    std::unique_ptr<SipTraceLog> sipTrace_;  // --sip-trace
    su_home_t home_[1] = {};
    su_root_t* root_ = nullptr;
    nta_agent_t* agent_ = nullptr;
    nta_leg_t* defaultLeg_ = nullptr;
    su_timer_t* timer_ = nullptr;
    SipEvents* events_ = nullptr;
    common::TimerQueue timers_;
    std::vector<ListenPoint> bound_;
    std::vector<ListenPoint> homeBound_;  // SipShard: the home twins, bound first
    SipShard shard_;
    std::vector<int> udpFds_;  // the UDP listen sockets (owned by sofia), for their backlog

    std::uint64_t nextId_ = 1;
    struct Irq {
        nta_incoming_t* irq;
        common::Transport transport;
        bool invite;
        std::unique_ptr<IrqCtx> ctx;  // the callback's magic, INVITE only
    };
    std::unordered_map<ServerTxnId, Irq> irqs_;
    std::unordered_map<ClientTxnId, TxnCtx*> orqs_;
    std::unordered_map<DialogId, LegCtx*> legs_;

    int depth_ = 0;
    std::deque<std::function<void()>> pending_;

    int wakeFds_[2] = {-1, -1};
    su_wait_t wait_[1] = {};
    std::mutex postMutex_;
    std::deque<std::function<void()>> posted_;
};

namespace {

struct TxnCtx {
    SofiaRuntime::Impl* impl;
    ClientTxnId id;
    nta_outgoing_t* orq = nullptr;
    LegCtx* leg = nullptr;
    bool invite = false;
    msg_t* prepared = nullptr;  // callerRetransmits: the request whose copies we send
    std::string host;           // ... and where to
    std::string port;
    nta_leg_t* ownLeg = nullptr;  // sendRequest: the one-request leg, destroyed with it
};

struct IrqCtx {
    SofiaRuntime::Impl* impl;
    ServerTxnId id;
};

struct LegCtx {
    SofiaRuntime::Impl* impl;
    DialogId id;
    nta_leg_t* leg = nullptr;
    common::Transport transport = common::Transport::Udp;
    bool remoteTagged = false;
};

// ---- trampolines: cast, convert nothing, forward; never throw into C ----

int legTrampoline(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq,
                  const sip_t* sip) noexcept
{
    try {
        auto* leg = reinterpret_cast<LegCtx*>(magic);
        return leg->impl->onLegRequest(leg, irq, sip);
    } catch (...) {
        return 500;
    }
}

int defaultLegTrampoline(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq,
                         const sip_t* sip) noexcept
{
    try {
        auto* impl = reinterpret_cast<SofiaRuntime::Impl*>(magic);
        return impl->onLegRequest(nullptr, irq, sip);
    } catch (...) {
        return 500;
    }
}

int irqTrampoline(nta_incoming_magic_t* magic, nta_incoming_t* irq, const sip_t* sip) noexcept
{
    try {
        auto* ctx = reinterpret_cast<IrqCtx*>(magic);
        ctx->impl->onIrqEvent(ctx->id, irq, sip);
    } catch (...) {
    }
    return 0;
}

int orqTrampoline(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, const sip_t* sip) noexcept
{
    try {
        auto* ctx = reinterpret_cast<TxnCtx*>(magic);
        ctx->impl->onOrqResponse(ctx, orq, sip);
    } catch (...) {
    }
    return 0;
}

// The caller PRACKed a reliable 18x: answer 200 (RFC 3262 §3); the PRACK ends on this leg.
int prackTrampoline(nta_reliable_magic_t*, nta_reliable_t*, nta_incoming_t*, const sip_t*) noexcept
{
    return 200;
}

void timerTrampoline(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) noexcept
{
    try {
        reinterpret_cast<SofiaRuntime::Impl*>(arg)->onTimer();
    } catch (...) {
    }
}

int wakeTrampoline(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) noexcept
{
    try {
        reinterpret_cast<SofiaRuntime::Impl*>(arg)->onWakeup();
    } catch (...) {
    }
    return 0;
}

void sofiaLogTrampoline(void* stream, char const* fmt, va_list ap) noexcept
{
    try {
        char line[1024];
        std::vsnprintf(line, sizeof line, fmt, ap);
        std::string text(line);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.pop_back();
        }
        static_cast<spdlog::logger*>(stream)->debug("{}", text);
    } catch (...) {
    }
}

/// `--sip-trace`: tport logs each message sent or received through the default su_log, in
/// fragments (a stamp line, then line by line, then a separator line). They are put back
/// together here and written as one `sip` logger line per message, with its Call-ID; other
/// default-log output goes on to the `sofia` logger. Thread: sip-loop (tport logs there).
struct SipTraceLog {
    std::shared_ptr<spdlog::logger> sofia;
    std::shared_ptr<spdlog::logger> sip;
    // The message being put back together, per thread: with several SIP threads each one's
    // sofia logs its own messages through the one redirected log.
    static inline thread_local std::string message;
    static inline thread_local bool inMessage = false;

    static constexpr std::string_view kSeparator = "-------------------------------------";

    static std::string callIdOf(const std::string& text)
    {
        for (const std::string_view name : {"\n   Call-ID:", "\n   i:"}) {
            const auto at = text.find(name);
            if (at != std::string::npos) {
                const auto start = text.find_first_not_of(' ', at + name.size());
                const auto end = text.find_first_of("\r\n", start);
                return text.substr(start, end == std::string::npos ? end : end - start);
            }
        }
        return "-";
    }

    void fragment(std::string text)
    {
        const bool separator = text.find(kSeparator) != std::string::npos;
        if (!inMessage) {
            if (separator && (text.rfind("recv ", 0) == 0 || text.rfind("send ", 0) == 0)) {
                inMessage = true;
                message = text.substr(0, text.find('\n'));
                message += '\n';
                return;
            }
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
                text.pop_back();
            }
            sofia->debug("{}", text);
            return;
        }
        if (separator) {
            inMessage = false;
            while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
                message.pop_back();
            }
            sip->info("[{}] {}", callIdOf(message), message);
            message.clear();
            return;
        }
        message += text;
    }
};

void sipTraceTrampoline(void* stream, char const* fmt, va_list ap) noexcept
{
    try {
        va_list copy;
        va_copy(copy, ap);
        const int n = std::vsnprintf(nullptr, 0, fmt, copy);
        va_end(copy);
        if (n < 0) {
            return;
        }
        std::string text(static_cast<std::size_t>(n) + 1, '\0');
        std::vsnprintf(text.data(), text.size(), fmt, ap);
        text.resize(static_cast<std::size_t>(n));
        static_cast<SipTraceLog*>(stream)->fragment(std::move(text));
    } catch (...) {
    }
}

const char* transportParam(common::Transport t)
{
    return t == common::Transport::Tcp ? "tcp" : "udp";
}

sip_payload_t* payloadOf(su_home_t* home, const std::string& body)
{
    return body.empty() ? nullptr : sip_payload_create(home, body.data(), body.size());
}

}  // namespace

namespace {

std::uint16_t boundPort(int fd)
{
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return 0;
    }
    if (addr.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
    }
    return addr.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port)
                                     : 0;
}

}  // namespace

SofiaRuntime::Impl::Impl(const std::vector<ListenPoint>& listen, const common::Clock& clock,
                         SipShard shard)
    : clock_(clock), shard_(shard)
{
    if (listen.empty()) {
        throw ConfigError("--sip: at least one listen point is needed");
    }
    su_init();
    su_home_init(home_);
    root_ = su_root_create(this);
    if (root_ == nullptr) {
        throw ConfigError("sofia: cannot create su_root");
    }
    auto sofiaLog = common::logger("sofia");
    su_log_redirect(nullptr, sofiaLogTrampoline, sofiaLog.get());
    su_log_redirect(nta_log, sofiaLogTrampoline, sofiaLog.get());
    su_log_redirect(tport_log, sofiaLogTrampoline, sofiaLog.get());
    const unsigned level = sofiaLog->level() <= spdlog::level::trace ? 9 : 3;
    su_log_set_level(nullptr, level);
    su_log_set_level(nta_log, level);
    su_log_set_level(tport_log, level);

    auto urlOf = [](const ListenPoint& lp) {
        return "sip:" + lp.ip + ":" + std::to_string(lp.port) +
               ";transport=" + transportParam(lp.transport);
    };
    // Several SIP threads (SipShard): the home twins are bound first. sofia sends a request
    // from the first primary transport of its protocol and address family, so every request
    // this agent makes leaves from its home port, and the responses (rport) come back there.
    std::vector<ListenPoint> homes;
    if (shard.count > 1) {
        for (const auto& lp : listen) {
            homes.push_back({lp.transport, lp.ip, 0});
        }
    }
    // UDP socket buffers sized for bursts (the kernel default, ~208 KiB, drops datagrams at a
    // few hundred calls/s while the loop is busy; the kernel caps these at net.core.rmem_max /
    // wmem_max).
    constexpr unsigned kUdpRcvBuf = 8u << 20;
    constexpr unsigned kUdpSndBuf = 4u << 20;
    auto bindAll = [&](const std::vector<ListenPoint>& points, bool reusePort) {
        UdpBinds binds(reusePort);
        for (const auto& lp : points) {
            const std::string url = urlOf(lp);
            if (agent_ == nullptr) {
                agent_ = nta_agent_create(root_, URL_STRING_MAKE(url.c_str()), nullptr, nullptr,
                                          NTATAG_UA(1), NTATAG_CANCEL_487(1),
                                          NTATAG_SERVER_RPORT(1), NTATAG_CLIENT_RPORT(1),
                                          NTATAG_PASS_100(1), TPTAG_UDP_RMEM(kUdpRcvBuf),
                                          TPTAG_UDP_WMEM(kUdpSndBuf), TAG_END());
                if (agent_ == nullptr) {
                    throw ConfigError("--sip: cannot listen on " + url);
                }
            } else if (nta_agent_add_tport(agent_, URL_STRING_MAKE(url.c_str()),
                                           TPTAG_UDP_RMEM(kUdpRcvBuf), TPTAG_UDP_WMEM(kUdpSndBuf),
                                           TAG_END()) < 0) {
                throw ConfigError("--sip: cannot listen on " + url +
                                  (reusePort ? " (SIP thread " + std::to_string(shard.index) +
                                                   " of " + std::to_string(shard.count) + ")"
                                             : std::string()));
            }
        }
        return binds.sockets();
    };
    udpFds_ = bindAll(homes, false);
    std::size_t homePrimaries = 0;  // sofia lists its primary transports in bind order
    if (agent_ != nullptr) {
        for (tport_t* tp = tport_primaries(nta_agent_tports(agent_)); tp; tp = tport_next(tp)) {
            ++homePrimaries;
        }
    }
    // This agent's sockets in the public ports' groups.
    const std::vector<int> publicUdp = bindAll(listen, shard.count > 1);
    udpFds_.insert(udpFds_.end(), publicUdp.begin(), publicUdp.end());
    std::size_t n = 0;
    for (tport_t* tp = tport_primaries(nta_agent_tports(agent_)); tp; tp = tport_next(tp), ++n) {
        const tp_name_t* name = tport_name(tp);
        ListenPoint lp;
        lp.transport = su_casematch(name->tpn_proto, "tcp") ? common::Transport::Tcp
                                                             : common::Transport::Udp;
        lp.ip = name->tpn_host;
        lp.port = static_cast<std::uint16_t>(std::stoi(name->tpn_port));
        (n < homePrimaries ? homeBound_ : bound_).push_back(lp);
    }
    for (const int fd : udpFds_) {
        // Every datagram stamped on arrival, for receiveBacklog(); sofia reads without a
        // control buffer, so the stamps reach only the overload probe's peek.
        const int on = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }
    if (shard.count > 1 && shard.index + 1 == shard.count) {
        // The last thread has joined every public UDP group: from now on new calls are steered.
        for (const int fd : publicUdp) {
            try {
                attachCallSteering(fd, shard.count);
            } catch (const std::system_error& e) {
                throw ConfigError(std::string("--sip-threads: ") + e.what() + " (UDP port " +
                                  std::to_string(boundPort(fd)) + ")");
            }
        }
    }

    defaultLeg_ = nta_leg_tcreate(agent_, defaultLegTrampoline,
                                  reinterpret_cast<nta_leg_magic_t*>(this), NTATAG_NO_DIALOG(1),
                                  TAG_END());
    timer_ = su_timer_create(su_root_task(root_), 0);
    timers_.setOnEarliestChanged([this] { armTimer(); });

    if (::pipe(wakeFds_) != 0) {
        throw ConfigError("cannot create the sip-loop wake-up pipe");
    }
    su_wait_create(wait_, wakeFds_[0], SU_WAIT_IN);
    su_root_register(root_, wait_, wakeTrampoline, reinterpret_cast<su_wakeup_arg_t*>(this), 0);
}

void SofiaRuntime::Impl::enableSipTrace()
{
    sipTrace_ = std::make_unique<SipTraceLog>();
    sipTrace_->sofia = common::logger("sofia");
    sipTrace_->sip = common::logger("siptrace");
    su_log_redirect(nullptr, sipTraceTrampoline, sipTrace_.get());
    nta_agent_set_params(agent_, TPTAG_LOG(1), TAG_END());
}

SofiaRuntime::Impl::~Impl()
{
    if (sipTrace_) {
        // The trace log dies with us; what sofia logs from now on goes to `sofia` again.
        su_log_redirect(nullptr, sofiaLogTrampoline, common::logger("sofia").get());
    }
    for (auto& [id, ctx] : orqs_) {
        nta_outgoing_destroy(ctx->orq);
        if (ctx->prepared != nullptr) {
            msg_destroy(ctx->prepared);
        }
        delete ctx;
    }
    for (auto& [id, irq] : irqs_) {
        nta_incoming_destroy(irq.irq);
    }
    for (auto& [id, ctx] : legs_) {
        nta_leg_destroy(ctx->leg);
        delete ctx;
    }
    if (timer_ != nullptr) {
        su_timer_destroy(timer_);
    }
    if (defaultLeg_ != nullptr) {
        nta_leg_destroy(defaultLeg_);
    }
    if (agent_ != nullptr) {
        nta_agent_destroy(agent_);
    }
    if (root_ != nullptr) {
        su_root_unregister(root_, wait_, wakeTrampoline, reinterpret_cast<su_wakeup_arg_t*>(this));
        su_root_destroy(root_);
    }
    for (int fd : wakeFds_) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    su_home_deinit(home_);
    su_deinit();
}

template <typename Fn>
void SofiaRuntime::Impl::deliver(Fn&& fn)
{
    if (depth_ > 0) {
        pending_.emplace_back(std::forward<Fn>(fn));
        return;
    }
    ++depth_;
    fn();
    while (!pending_.empty()) {
        auto next = std::move(pending_.front());
        pending_.pop_front();
        next();
    }
    --depth_;
}

std::string SofiaRuntime::Impl::contactFor(common::Transport transport) const
{
    for (const auto& lp : homeBound_.empty() ? bound_ : homeBound_) {
        if (lp.transport == transport) {
            std::string host = lp.ip;
            if (host == "0.0.0.0" || host == "::") {
                const sip_contact_t* m = nta_agent_contact(agent_);
                host = (m != nullptr && m->m_url->url_host) ? m->m_url->url_host : "127.0.0.1";
            }
            // With several SIP threads the user part names this one, for the steering of
            // requests within the call that come to the public port (call_steering.h).
            const std::string user =
                homeBound_.empty() ? std::string() : shardContactUser(shard_.index) + "@";
            std::string uri = "<sip:" + user + host + ":" + std::to_string(lp.port);
            if (transport == common::Transport::Tcp) {
                uri += ";transport=tcp";
            }
            return uri + ">";
        }
    }
    return {};
}

sip_contact_t* SofiaRuntime::Impl::contactHeader(su_home_t* home,
                                                common::Transport transport) const
{
    const std::string contact = contactFor(transport);
    return contact.empty() ? nullptr : sip_contact_make(home, contact.c_str());
}

ServerTxnId SofiaRuntime::Impl::adoptIrq(nta_incoming_t* irq, const sip_t* sip)
{
    const ServerTxnId id = nextId_++;
    const bool invite = sip->sip_request->rq_method == sip_method_invite;
    Irq& entry = irqs_[id];
    entry = {irq, transportOf(sip), invite, nullptr};
    if (invite) {
        // Keeps CANCEL, ACK and Timer H reaching us.
        entry.ctx = std::make_unique<IrqCtx>(IrqCtx{this, id});
        nta_incoming_bind(irq, irqTrampoline,
                          reinterpret_cast<nta_incoming_magic_t*>(entry.ctx.get()));
    }
    return id;
}

int SofiaRuntime::Impl::onLegRequest(LegCtx* leg, nta_incoming_t* irq, const sip_t* sip)
{
    if (sip == nullptr || sip->sip_request == nullptr) {
        return 400;
    }
    const sip_method_t method = sip->sip_request->rq_method;
    if (method == sip_method_invite && sip->sip_contact == nullptr) {
        return 400;  // RFC 3261 §8.1.1.8: an INVITE must carry a Contact
    }
    const std::size_t bodyLength = sip->sip_payload ? sip->sip_payload->pl_len : 0;
    if (sip->sip_content_length && sip->sip_content_length->l_length > bodyLength) {
        // RFC 3261 §18.3: over UDP a body shorter than Content-Length is an error.
        if (method == sip_method_ack) {
            nta_incoming_destroy(irq);
            return 0;
        }
        return 400;
    }
    if (method == sip_method_ack) {
        if (leg != nullptr) {
            SipRequest ack = toRequest(irq, sip);
            const DialogId dialog = leg->id;
            deliver([this, dialog, ack] { events_->onDialogRequest(dialog, 0, ack); });
        }
        nta_incoming_destroy(irq);
        return 0;
    }
    SipRequest req = toRequest(irq, sip);
    const ServerTxnId id = adoptIrq(irq, sip);
    if (leg != nullptr) {
        const DialogId dialog = leg->id;
        deliver([this, dialog, id, req] { events_->onDialogRequest(dialog, id, req); });
    } else if (method == sip_method_invite) {
        deliver([this, id, req] { events_->onNewInvite(id, req); });
    } else {
        deliver([this, id, req] { events_->onOutOfDialogRequest(id, req); });
    }
    return 0;
}

void SofiaRuntime::Impl::onIrqEvent(ServerTxnId txn, nta_incoming_t* irq, const sip_t* sip)
{
    if (sip == nullptr) {
        if (nta_incoming_status(irq) >= 200 && nta_incoming_status(irq) < 300) {
            deliver([this, txn] { events_->onAckTimeout(txn); });
        }
        return;
    }
    if (sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
        deliver([this, txn] { events_->onCancel(txn); });
    } else if (sip->sip_request && sip->sip_request->rq_method == sip_method_ack) {
        SipRequest ack = toRequest(irq, sip);
        deliver([this, txn, ack] { events_->onAck(txn, ack); });
    }
}

void SofiaRuntime::Impl::onOrqResponse(TxnCtx* ctx, nta_outgoing_t* orq, const sip_t* sip)
{
    SipResponse resp = toResponse(orq, sip);
    if (ctx->invite && ctx->leg != nullptr && sip != nullptr && resp.status > 100 &&
        resp.status < 300 && sip->sip_to && sip->sip_to->a_tag) {
        // §12.1.2: the remote tag, remote target and route set come from the first
        // dialog-creating response; a 2xx refreshes them.
        if (!ctx->leg->remoteTagged) {
            nta_leg_rtag(ctx->leg->leg, sip->sip_to->a_tag);
            ctx->leg->remoteTagged = true;
        }
        nta_leg_client_reroute(ctx->leg->leg, sip->sip_record_route, sip->sip_contact,
                               resp.status >= 200);
        if (resp.status < 200 && sip->sip_rseq != nullptr &&
            sip_has_feature(sip->sip_require, "100rel")) {
            prack(ctx, orq, sip);
        }
    }
    const ClientTxnId id = ctx->id;
    deliver([this, id, resp] { events_->onResponse(id, resp); });
}

void SofiaRuntime::Impl::prack(TxnCtx* ctx, nta_outgoing_t* orq, const sip_t* sip)
{
    // RFC 3262 §4: PRACK every reliable provisional, in the early dialog the leg now holds.
    // Built by hand: nta_outgoing_prack() insists on the INVITE's own To having the tag,
    // which only a forked nta_outgoing_tagged() copy has (and that one leaks).
    sip_rack_t rack[1];
    sip_rack_init(rack);
    rack->ra_response = sip->sip_rseq->rs_response;
    rack->ra_cseq = sip->sip_cseq->cs_seq;
    rack->ra_method = sip->sip_cseq->cs_method;
    rack->ra_method_name = sip->sip_cseq->cs_method_name;
    // nta drops retransmissions of this RSeq from now on.
    nta_outgoing_setrseq(orq, rack->ra_response);
    nta_outgoing_t* prack = nta_outgoing_tcreate(ctx->leg->leg, nullptr, nullptr, nullptr,
                                                 SIP_METHOD_PRACK, nullptr, SIPTAG_RACK(rack),
                                                 TAG_END());
    if (prack != nullptr) {
        nta_outgoing_destroy(prack);  // runs to completion on its own
    }
}

DialogId SofiaRuntime::Impl::acceptDialog(ServerTxnId txn)
{
    auto it = irqs_.find(txn);
    if (it == irqs_.end()) {
        return 0;
    }
    msg_t* msg = nta_incoming_getrequest(it->second.irq);
    const sip_t* sip = sip_object(msg);
    auto* ctx = new LegCtx{this, nextId_++, nullptr, it->second.transport, true};
    ctx->leg = nta_leg_tcreate(agent_, legTrampoline, reinterpret_cast<nta_leg_magic_t*>(ctx),
                               SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_to),
                               SIPTAG_TO(sip->sip_from), TAG_END());
    if (ctx->leg == nullptr) {
        msg_destroy(msg);
        delete ctx;
        return 0;
    }
    nta_leg_tag(ctx->leg, nullptr);
    nta_leg_server_route(ctx->leg, sip->sip_record_route, sip->sip_contact);
    nta_incoming_tag(it->second.irq, nta_leg_get_tag(ctx->leg));
    msg_destroy(msg);
    legs_[ctx->id] = ctx;
    return ctx->id;
}

void SofiaRuntime::Impl::respond(ServerTxnId txn, const SipResponse& resp)
{
    auto it = irqs_.find(txn);
    if (it == irqs_.end() || nta_incoming_status(it->second.irq) >= 200) {
        return;
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const bool withContact = resp.status > 100 && resp.status < 300 &&
                             (it->second.invite || nta_incoming_method(it->second.irq) ==
                                                       sip_method_update);
    const std::string extra = extraHeaders(resp.relayHeaders, resp.timer);
    if (resp.reliable && resp.status > 100 && resp.status < 200 &&
        nta_reliable_treply(
            it->second.irq, prackTrampoline, nullptr, resp.status,
            resp.reason.empty() ? nullptr : resp.reason.c_str(),
            SIPTAG_CONTACT(contactHeader(home, it->second.transport)),
            TAG_IF(!resp.contentType.empty(), SIPTAG_CONTENT_TYPE_STR(resp.contentType.c_str())),
            TAG_IF(!resp.body.empty(), SIPTAG_PAYLOAD(payloadOf(home, resp.body))),
            TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END()) != nullptr) {
        su_home_deinit(home);
        return;  // otherwise the caller cannot do 100rel: send it unreliably below
    }
    nta_incoming_treply(
        it->second.irq, resp.status, resp.reason.empty() ? nullptr : resp.reason.c_str(),
        TAG_IF(withContact, SIPTAG_CONTACT(contactHeader(home, it->second.transport))),
        TAG_IF(!resp.contentType.empty(), SIPTAG_CONTENT_TYPE_STR(resp.contentType.c_str())),
        TAG_IF(!resp.body.empty(), SIPTAG_PAYLOAD(payloadOf(home, resp.body))),
        TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())),
        TAG_IF(withContact, SIPTAG_SUPPORTED_STR(kSupported)),
        TAG_IF(resp.status == 405 || withContact, SIPTAG_ALLOW_STR(kAllow)), TAG_END());
    su_home_deinit(home);
}

void SofiaRuntime::Impl::releaseServerTxn(ServerTxnId txn)
{
    auto it = irqs_.find(txn);
    if (it == irqs_.end()) {
        return;
    }
    nta_incoming_destroy(it->second.irq);
    irqs_.erase(it);
}

SipStack::Started SofiaRuntime::Impl::startDialog(const NewDialog& d, const SipRequest& invite)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const std::string local = bound_.empty() ? "127.0.0.1" : bound_.front().ip;
    const std::string fromHost = (local == "0.0.0.0") ? "127.0.0.1" : local;
    const std::string fromText = nameAddr(d.from.display, d.from.uri.empty()
                                                              ? "sip:" + d.from.user + "@" + fromHost
                                                              : d.from.uri);
    sip_from_t* from = sip_from_make(home, fromText.c_str());
    sip_to_t* to = sip_to_make(home, nameAddr(d.to.display, d.to.uri).c_str());
    if (from == nullptr || to == nullptr) {
        su_home_deinit(home);
        return {};
    }
    sip_from_tag(home, from, nta_agent_newtag(home, "%s", agent_));

    auto* leg = new LegCtx{this, nextId_++, nullptr, d.target.transport, false};
    leg->leg = nta_leg_tcreate(agent_, legTrampoline, reinterpret_cast<nta_leg_magic_t*>(leg),
                               SIPTAG_CALL_ID_STR(d.callId.c_str()), SIPTAG_FROM(from),
                               SIPTAG_TO(to), TAG_END());
    if (leg->leg == nullptr) {
        delete leg;
        su_home_deinit(home);
        return {};
    }
    legs_[leg->id] = leg;

    const std::string route = "sip:" + d.target.host + ":" + std::to_string(d.target.port) +
                              ";transport=" + transportParam(d.target.transport);
    const std::string extra = extraHeaders(invite.relayHeaders, invite.timer);
    const bool appSends = d.callerRetransmits && d.target.transport == common::Transport::Udp;
    auto* ctx = new TxnCtx{this, nextId_++, nullptr, leg, true, nullptr, {}, {}};
    ctx->orq = nta_outgoing_tcreate(
        leg->leg, orqTrampoline, reinterpret_cast<nta_outgoing_magic_t*>(ctx),
        URL_STRING_MAKE(route.c_str()), SIP_METHOD_INVITE,
        URL_STRING_MAKE(d.requestUri.c_str()),
        SIPTAG_CONTACT(contactHeader(home, d.target.transport)),
        SIPTAG_ALLOW_STR(kAllow),
        SIPTAG_SUPPORTED_STR(d.offer100rel ? kSupported100rel : kSupported),
        TAG_IF(!invite.contentType.empty(), SIPTAG_CONTENT_TYPE_STR(invite.contentType.c_str())),
        TAG_IF(!invite.body.empty(), SIPTAG_PAYLOAD(payloadOf(home, invite.body))),
        TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), NTATAG_PASS_100(1),
        TAG_IF(appSends, SS_NTATAG_DELAY_SENDING(1)), TAG_END());
    su_home_deinit(home);
    if (ctx->orq == nullptr) {
        delete ctx;
        releaseDialog(leg->id);
        return {};
    }
    orqs_[ctx->id] = ctx;
    if (appSends) {
        ctx->prepared = nta_outgoing_getrequest(ctx->orq);
        ctx->host = d.target.host;
        ctx->port = std::to_string(d.target.port);
        if (!retransmit(ctx->id)) {
            releaseClientTxn(ctx->id);
            releaseDialog(leg->id);
            return {};
        }
    }
    return {leg->id, ctx->id};
}

ClientTxnId SofiaRuntime::Impl::sendInDialog(DialogId dialog, const SipRequest& req)
{
    auto it = legs_.find(dialog);
    if (it == legs_.end()) {
        return 0;
    }
    LegCtx* leg = it->second;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const sip_method_t method = sip_method_code(req.method.c_str());
    const bool targetRefresh = method == sip_method_invite || method == sip_method_update;
    const std::string extra = extraHeaders(req.relayHeaders, req.timer);
    auto* ctx = new TxnCtx{this, nextId_++, nullptr, leg, method == sip_method_invite, nullptr, {}, {}};
    ctx->orq = nta_outgoing_tcreate(
        leg->leg, orqTrampoline, reinterpret_cast<nta_outgoing_magic_t*>(ctx), nullptr, method,
        req.method.c_str(), nullptr,
        TAG_IF(targetRefresh, SIPTAG_CONTACT(contactHeader(home, leg->transport))),
        TAG_IF(targetRefresh, SIPTAG_SUPPORTED_STR(kSupported)),
        TAG_IF(!req.contentType.empty(), SIPTAG_CONTENT_TYPE_STR(req.contentType.c_str())),
        TAG_IF(!req.body.empty(), SIPTAG_PAYLOAD(payloadOf(home, req.body))),
        TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
    su_home_deinit(home);
    if (ctx->orq == nullptr) {
        delete ctx;
        return 0;
    }
    orqs_[ctx->id] = ctx;
    return ctx->id;
}

void SofiaRuntime::Impl::ack(DialogId dialog, ClientTxnId invite, const std::string& contentType,
                             const std::string& body)
{
    auto leg = legs_.find(dialog);
    auto orq = orqs_.find(invite);
    if (leg == legs_.end() || orq == orqs_.end()) {
        return;
    }
    // Only an INVITE is ACKed: nta asserts (aborts) on an ACK it cannot match to an INVITE,
    // e.g. after a 2xx to a refresh UPDATE.
    if (nta_outgoing_method(orq->second->orq) != sip_method_invite) {
        return;
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_cseq_t* cseq = sip_cseq_create(home, nta_outgoing_cseq(orq->second->orq), SIP_METHOD_ACK);
    nta_outgoing_t* ack = nta_outgoing_tcreate(
        leg->second->leg, nullptr, nullptr, nullptr, SIP_METHOD_ACK, nullptr, SIPTAG_CSEQ(cseq),
        TAG_IF(!contentType.empty(), SIPTAG_CONTENT_TYPE_STR(contentType.c_str())),
        TAG_IF(!body.empty(), SIPTAG_PAYLOAD(payloadOf(home, body))), TAG_END());
    if (ack != nullptr) {
        nta_outgoing_destroy(ack);
    }
    su_home_deinit(home);
}

std::uint64_t SofiaRuntime::Impl::retransmissions() const
{
    usize_t requests = 0;
    usize_t responses = 0;
    nta_agent_get_stats(agent_, NTATAG_S_RETRY_REQUEST_REF(requests),
                        NTATAG_S_RETRY_RESPONSE_REF(responses), TAG_END());
    return static_cast<std::uint64_t>(requests) + static_cast<std::uint64_t>(responses);
}

bool SofiaRuntime::Impl::retransmit(ClientTxnId txn)
{
    auto it = orqs_.find(txn);
    if (it == orqs_.end() || it->second->prepared == nullptr) {
        return false;
    }
    TxnCtx* ctx = it->second;
    tp_name_t name = {"udp", nullptr, ctx->host.c_str(), ctx->port.c_str(), nullptr, nullptr};
    return tport_tsend(nta_agent_tports(agent_), ctx->prepared, &name, TAG_END()) != nullptr;
}

ClientTxnId SofiaRuntime::Impl::sendRequest(const SipTarget& target, const SipRequest& req)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const std::string hostPort = target.host + ":" + std::to_string(target.port);
    const std::string uri = req.requestUri.empty() ? "sip:" + hostPort : req.requestUri;
    const std::string local = bound_.empty() ? "127.0.0.1" : bound_.front().ip;
    const std::string fromUri = "sip:softswitch@" + (local == "0.0.0.0" ? "127.0.0.1" : local);
    const std::string callId = nta_agent_newtag(home, "%s", agent_) + std::string("-probe");
    sip_from_t* from = sip_from_make(home, fromUri.c_str());
    sip_to_t* to = sip_to_make(home, uri.c_str());
    if (from == nullptr || to == nullptr) {
        su_home_deinit(home);
        return 0;
    }
    sip_from_tag(home, from, nta_agent_newtag(home, "%s", agent_));
    // A leg of its own carries Call-ID, From and To; it lives exactly as long as the request.
    nta_leg_t* leg = nta_leg_tcreate(agent_, nullptr, nullptr, SIPTAG_CALL_ID_STR(callId.c_str()),
                                     SIPTAG_FROM(from), SIPTAG_TO(to), TAG_END());
    if (leg == nullptr) {
        su_home_deinit(home);
        return 0;
    }
    const std::string route =
        "sip:" + hostPort + ";transport=" + transportParam(target.transport);
    const sip_method_t method = sip_method_code(req.method.c_str());
    auto* ctx = new TxnCtx{this, nextId_++, nullptr, nullptr, false, nullptr, {}, {}, leg};
    ctx->orq = nta_outgoing_tcreate(
        leg, orqTrampoline, reinterpret_cast<nta_outgoing_magic_t*>(ctx),
        URL_STRING_MAKE(route.c_str()), method, req.method.c_str(),
        URL_STRING_MAKE(uri.c_str()), SIPTAG_CONTACT(contactHeader(home, target.transport)),
        TAG_END());
    su_home_deinit(home);
    if (ctx->orq == nullptr) {
        nta_leg_destroy(leg);
        delete ctx;
        return 0;
    }
    orqs_[ctx->id] = ctx;
    return ctx->id;
}

void SofiaRuntime::Impl::cancel(ClientTxnId txn)
{
    auto it = orqs_.find(txn);
    if (it != orqs_.end()) {
        nta_outgoing_tcancel(it->second->orq, nullptr, nullptr, TAG_END());
    }
}

void SofiaRuntime::Impl::releaseClientTxn(ClientTxnId txn)
{
    auto it = orqs_.find(txn);
    if (it == orqs_.end()) {
        return;
    }
    nta_outgoing_destroy(it->second->orq);
    if (it->second->prepared != nullptr) {
        msg_destroy(it->second->prepared);
    }
    if (it->second->ownLeg != nullptr) {
        nta_leg_destroy(it->second->ownLeg);
    }
    delete it->second;
    orqs_.erase(it);
}

void SofiaRuntime::Impl::releaseDialog(DialogId dialog)
{
    auto it = legs_.find(dialog);
    if (it == legs_.end()) {
        return;
    }
    for (auto& [id, ctx] : orqs_) {
        if (ctx->leg == it->second) {
            ctx->leg = nullptr;
        }
    }
    nta_leg_destroy(it->second->leg);
    delete it->second;
    legs_.erase(it);
}

void SofiaRuntime::Impl::armTimer()
{
    auto next = timers_.nextDeadline();
    if (!next) {
        su_timer_reset(timer_);
        return;
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next -
                                                                   clock_.monotonicNow());
    su_timer_set_interval(timer_, timerTrampoline, reinterpret_cast<su_timer_arg_t*>(this),
                          static_cast<su_duration_t>(std::max<long long>(wait.count(), 0)));
}

void SofiaRuntime::Impl::onTimer()
{
    deliver([this] { timers_.runDue(clock_.monotonicNow()); });
    armTimer();
}

void SofiaRuntime::Impl::onWakeup()
{
    char drain[64];
    [[maybe_unused]] auto n = ::read(wakeFds_[0], drain, sizeof drain);
    std::deque<std::function<void()>> work;
    {
        std::lock_guard lock(postMutex_);
        work.swap(posted_);
    }
    for (auto& fn : work) {
        deliver(std::move(fn));
    }
}

// ---- SofiaRuntime ----

void SofiaRuntime::enableSipTrace() { impl_->enableSipTrace(); }

SofiaRuntime::SofiaRuntime(const std::vector<ListenPoint>& listen, const common::Clock& clock,
                           SipShard shard)
    : impl_(std::make_unique<Impl>(listen, clock, shard))
{
}

SofiaRuntime::~SofiaRuntime() = default;

SipStack& SofiaRuntime::stack() { return *impl_; }
common::TimerService& SofiaRuntime::timers() { return impl_->timers_; }
void SofiaRuntime::setEvents(SipEvents* events) { impl_->events_ = events; }
std::vector<ListenPoint> SofiaRuntime::bound() const { return impl_->bound_; }
std::vector<ListenPoint> SofiaRuntime::home() const { return impl_->homeBound_; }

namespace {

/// How long the datagram at the head of `fd`'s receive queue has waited at `now` (realtime, as
/// the kernel stamps datagrams): a peek of one byte with its SO_TIMESTAMPNS control message.
/// Zero when the queue is empty or the datagram has no stamp.
common::Millis headWait(int fd, const timespec& now)
{
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC) < 0) {
        return common::Millis{0};
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec stamp{};
            std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
            const auto waited = std::chrono::seconds(now.tv_sec - stamp.tv_sec) +
                                std::chrono::nanoseconds(now.tv_nsec - stamp.tv_nsec);
            return std::max(common::Millis{0},
                            std::chrono::duration_cast<common::Millis>(waited));
        }
    }
    return common::Millis{0};
}

}  // namespace

ReceiveBacklog SofiaRuntime::receiveBacklog() const
{
    ReceiveBacklog backlog;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    for (const int fd : impl_->udpFds_) {
        std::uint32_t info[SK_MEMINFO_VARS] = {};
        socklen_t len = sizeof info;
        if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0) {
            continue;
        }
        backlog.bytes += info[SK_MEMINFO_RMEM_ALLOC];
        backlog.capacity += info[SK_MEMINFO_RCVBUF];
        if (info[SK_MEMINFO_RMEM_ALLOC] > 0) {
            backlog.oldestWait = std::max(backlog.oldestWait, headWait(fd, now));
        }
    }
    return backlog;
}

void SofiaRuntime::setStackTimers(const common::StackTimers& timers)
{
    nta_agent_set_params(impl_->agent_,
                         NTATAG_SIP_T1(static_cast<unsigned>(timers.t1.count())),
                         NTATAG_SIP_T2(static_cast<unsigned>(timers.t2.count())),
                         NTATAG_SIP_T1X64(static_cast<unsigned>(timers.t1x64.count())), TAG_END());
    common::logger("sip")->info("stack timers T1={}ms T2={}ms T1x64={}ms ({})", timers.t1.count(),
                                timers.t2.count(), timers.t1x64.count(),
                                timers.exact ? "exact list" : "list approximated");
}

void SofiaRuntime::run() { su_root_run(impl_->root_); }

void SofiaRuntime::post(std::function<void()> fn)
{
    {
        std::lock_guard lock(impl_->postMutex_);
        impl_->posted_.push_back(std::move(fn));
    }
    const char one = 1;
    [[maybe_unused]] auto n = ::write(impl_->wakeFds_[1], &one, 1);
}

void SofiaRuntime::stop()
{
    post([root = impl_->root_] { su_root_break(root); });
}

}  // namespace ss::sig
