// SPDX-License-Identifier: Apache-2.0
#pragma once

// The sofia-sip side of the switch: one su_root loop, one nta agent in UA mode
// (NTATAG_UA(1): 2xx retransmission, ACK re-sending and orphan-2xx handling come from nta), the
// SipStack adapter, and the TimerService driven by a single su_timer. No sofia type appears
// here; everything sofia lives in sofia_runtime.cpp.

#include "common/clock.h"
#include "common/params.h"
#include "common/provisioning.h"
#include "common/timer_service.h"
#include "switch/overload_guard.h"
#include "switch/sip_stack.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ss::sig {

/// A `--sip` listen point, e.g. udp:127.0.0.1:5060. Port 0 = chosen by the OS.
struct ListenPoint {
    common::Transport transport = common::Transport::Udp;
    std::string ip;
    std::uint16_t port = 0;
};

/// Parses `udp:IP:PORT,tcp:IP:PORT`. Throws ConfigError naming the bad element.
std::vector<ListenPoint> parseListenPoints(const std::string& spec);

/// Which of the switch's SIP threads (`--sip-threads`) a runtime is. With more than one, every
/// thread's agent listens on the same public listen points (SO_REUSEPORT), new calls are
/// steered to a thread by their Request-URI (call_steering.h), and each thread also listens on
/// a "home" twin of every listen point on a port of its own, from which it sends all its
/// requests and which its Contact names: whatever comes later in a call (ACK, BYE, re-INVITE,
/// the responses to the switch's requests) arrives at the thread that holds the call.
struct SipShard {
    unsigned index = 0;
    unsigned count = 1;
};

class SofiaRuntime {
public:
    /// Binds every listen point (throws ConfigError when one cannot be bound). With several
    /// shards, each binds the same public ports (the first may let the OS choose them; the
    /// others are given the ports it got) and the runtimes are made one after the other, in
    /// index order, each on the thread that runs it (sofia's su_root belongs to its thread).
    SofiaRuntime(const std::vector<ListenPoint>& listen, const common::Clock& clock,
                 SipShard shard = {});
    ~SofiaRuntime();
    SofiaRuntime(const SofiaRuntime&) = delete;
    SofiaRuntime& operator=(const SofiaRuntime&) = delete;

    /// The stack commands. Thread: sip-loop.
    SipStack& stack();
    /// Timers on the sip-loop. Thread: sip-loop.
    common::TimerService& timers();
    /// Where stack events go; set before run(). Thread: before run().
    void setEvents(SipEvents* events);
    /// Applies RFC 3261 timers to the nta agent (T1, T2, T1x64); in-flight transactions keep
    /// theirs except that a shorter T1x64 shortens queued deadlines (nta). Thread: sip-loop.
    void setStackTimers(const common::StackTimers& timers);
    /// `--sip-trace`: every SIP message sent or received is logged whole, one `siptrace`
    /// logger line (info) per message with its Call-ID. Thread: before run().
    void enableSipTrace();
    /// The listen points as bound (OS-chosen ports filled in).
    std::vector<ListenPoint> bound() const;
    /// The home twins of the listen points (SipShard); empty with one SIP thread.
    std::vector<ListenPoint> home() const;
    /// What waits to be read in the UDP listen sockets' receive queues: the sip-loop's
    /// backlog, for overload control. The oldest datagram's wait comes from its kernel receive
    /// timestamp (SO_TIMESTAMPNS, read with MSG_PEEK), the bytes and buffer size from
    /// SO_MEMINFO. This runtime's own sockets only (with several SIP threads, each has its
    /// socket in the public port's group, and its home socket). Thread: any.
    ReceiveBacklog receiveBacklog() const;

    /// Runs the loop on the calling thread (which becomes the sip-loop) until stop().
    void run();
    /// Runs `fn` on the sip-loop soon. Thread: any.
    void post(std::function<void()> fn);
    /// Makes run() return. Thread: any.
    void stop();

    /// The sofia side; defined in sofia_runtime.cpp only.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ss::sig
