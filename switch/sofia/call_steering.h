// SPDX-License-Identifier: Apache-2.0
#pragma once

// Call steering across SIP threads (SipShard). Each thread has its own nta agent, and all of
// them listen on the public UDP port with SO_REUSEPORT; the kernel picks one socket of that
// reuseport group per datagram. Its default pick hashes the 4-tuple, so a carrier that sends
// everything from one IP:port lands on one thread, and nothing ties a CANCEL to its INVITE.
// So the group gets a classic-BPF program that picks the socket from the Request-URI:
//
// - A request within a call the switch holds carries the switch's Contact as its Request-URI
//   (RFC 3261 §12.2.1.1), and that Contact names the thread: `sip:~b@...` is thread 1
//   (shardContactUser). Such requests normally go to the thread's own port, which the
//   Contact also names; this catches peers that send them to the address of the first INVITE.
// - Any other request goes by the hash of the 16 bytes after "sip:" in its Request-URI: the
//   dialled number and what follows. An INVITE, its retransmissions, its CANCEL and the ACK
//   for a non-2xx final response carry the same Request-URI (RFC 3261 §9.1, §17.1.1.3), so
//   they all reach the thread that holds the transaction, and distinct numbers spread over the
//   threads whoever sends them.
// - Responses are hashed the same way over what follows the status code: they land on some
//   thread. The switch sends its requests from each thread's own port, so the responses to
//   them come back there (rport), not to the public port.

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ss::sig {

/// The reuseport program for `shards` sockets (shards >= 1): it returns the index of the
/// socket that gets the datagram, in the order the sockets joined the group (were bound).
/// Notes on the kernel's side: when a socket of the group closes, the last one takes its
/// index; an index >= the sockets in the group makes the kernel fall back to its own hash.
std::vector<sock_filter> callSteeringProgram(unsigned shards);

/// Attaches callSteeringProgram(shards) to the reuseport group of `fd` (a bound UDP socket
/// with SO_REUSEPORT, or an unbound one with SO_REUSEPORT set; one socket serves the whole
/// group). shards <= 1: does nothing. Throws std::system_error naming what failed.
void attachCallSteering(int fd, unsigned shards);

/// The user part of thread `index`'s Contact: "~" and a letter, 'a' for thread 0.
std::string shardContactUser(unsigned index);

/// While an instance lives, every bind() of an AF_INET/AF_INET6 UDP or TCP socket on this
/// thread first sets SO_REUSEPORT on it when `reusePort`, and the UDP ones are noted in any
/// case: sofia-sip calls bind() right after socket() with no hook in between (Debian's 1.12
/// sets SO_REUSEADDR on TCP listeners, not SO_REUSEPORT), and it does not give out its
/// sockets, which the overload probe and the steering program need. So this module interposes
/// libc's bind (call_steering.cpp) and the SIP threads create their transports inside such a
/// scope. Nests (an outer scope notes the inner scopes' sockets too). Thread: the one that
/// creates it (the state is thread_local); destroy it there too.
class UdpBinds {
public:
    explicit UdpBinds(bool reusePort);
    ~UdpBinds();
    UdpBinds(const UdpBinds&) = delete;
    UdpBinds& operator=(const UdpBinds&) = delete;

    /// The sockets bound so far that are still open, in bind order. Listening on port 0,
    /// sofia-sip binds and closes probe sockets while it picks the port (an IPv6 and an IPv4
    /// one): they are left out, even when a later socket or file reuses their descriptors.
    std::vector<int> sockets() const;

private:
    friend struct UdpBindsAccess;
    struct Bound {
        int fd;
        std::uint64_t inode;  // tells the socket from a later file with the same descriptor
    };
    bool reusePort_;
    UdpBinds* outer_;
    std::vector<Bound> bound_;
};

}  // namespace ss::sig
