// SPDX-License-Identifier: Apache-2.0
// Call steering on real kernel sockets (127.0.0.1, ports chosen by the kernel): the bind()
// interposer that sets SO_REUSEPORT, and the reuseport program that keeps a transaction's
// requests on one socket of the group and spreads calls from one sender over all of them.

#include "switch/sofia/call_steering.h"

#include "common/unique_fd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ss::sig {
namespace {

using Fd = common::UniqueFd;

Fd udpSocket()
{
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) {
        throw std::system_error(errno, std::generic_category(), "socket");
    }
    const int size = 1 << 20;
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return s;
}

sockaddr_in loopback(std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int bindTo(const Fd& s, std::uint16_t port)
{
    const auto a = loopback(port);
    return ::bind(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a);
}

std::uint16_t portOf(const Fd& s)
{
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::system_error(errno, std::generic_category(), "getsockname");
    }
    return ntohs(a.sin_port);
}

bool reusePortSet(int fd)
{
    int on = 0;
    socklen_t len = sizeof on;
    return ::getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0 && on != 0;
}

/// A reuseport group of `n` UDP sockets on one port of 127.0.0.1; index = bind order.
struct Group {
    std::vector<Fd> sockets;
    std::uint16_t port = 0;
};

Group bindGroup(unsigned n)
{
    Group g;
    UdpBinds scope(true);
    for (unsigned i = 0; i < n; ++i) {
        g.sockets.push_back(udpSocket());
        if (bindTo(g.sockets.back(), g.port) != 0) {
            throw std::system_error(errno, std::generic_category(), "bind");
        }
        g.port = portOf(g.sockets.front());
    }
    return g;
}

void sendTo(const Fd& client, std::uint16_t port, const std::string& text)
{
    const auto a = loopback(port);
    ASSERT_EQ(::sendto(client.get(), text.data(), text.size(), 0,
                       reinterpret_cast<const sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(text.size()))
        << std::system_category().message(errno);
}

/// Reads `count` datagrams from the group (fewer if none comes for a second): the index of the
/// socket each arrived on, and its text.
std::vector<std::pair<std::size_t, std::string>> receive(const Group& g, std::size_t count)
{
    std::vector<std::pair<std::size_t, std::string>> out;
    std::vector<pollfd> fds;
    for (const auto& s : g.sockets) {
        fds.push_back(pollfd{s.get(), POLLIN, 0});
    }
    while (out.size() < count && ::poll(fds.data(), fds.size(), 1000) > 0) {
        for (std::size_t i = 0; i < fds.size(); ++i) {
            char buf[2048];
            ssize_t n;
            while ((n = ::recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
                out.emplace_back(i, std::string(buf, static_cast<std::size_t>(n)));
            }
        }
    }
    return out;
}

bool groupIdle(const Group& g)
{
    std::vector<pollfd> fds;
    for (const auto& s : g.sockets) {
        fds.push_back(pollfd{s.get(), POLLIN, 0});
    }
    return ::poll(fds.data(), fds.size(), 0) == 0;
}

std::string request(const std::string& method, const std::string& number, std::uint16_t port,
                    std::uint16_t from)
{
    const std::string uri = "sip:" + number + "@127.0.0.1:" + std::to_string(port);
    const std::string via = "127.0.0.1:" + std::to_string(from);
    return method + " " + uri + " SIP/2.0\r\n" +
           "Via: SIP/2.0/UDP " + via + ";branch=z9hG4bK-" + number + "\r\n" +
           "Max-Forwards: 70\r\n" +
           "From: <sip:carrier@" + via + ">;tag=c" + number + "\r\n" +
           "To: <" + uri + ">" + (method == "ACK" ? ";tag=s1" : "") + "\r\n" +
           "Call-ID: " + number + "@carrier\r\n" +
           "CSeq: 1 " + method + "\r\n" +
           "Content-Length: 0\r\n\r\n";
}

/// 600 distinct E.164 numbers "4420" + 9 digits: a block of consecutive ones (a DID range)
/// and scattered ones.
std::vector<std::string> dialledNumbers()
{
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto add = [&](std::uint32_t subscriber) {
        std::string digits = std::to_string(subscriber);
        std::string number = "4420" + std::string(9 - digits.size(), '0') + digits;
        if (seen.insert(number).second) {
            out.push_back(number);
        }
    };
    for (std::uint32_t i = 0; i < 300; ++i) {
        add(794600000 + i);
    }
    std::mt19937 random(20240611);
    while (out.size() < 600) {
        add(random() % 1000000000);
    }
    return out;
}

/// Every call's INVITE, CANCEL and ACK (same Request-URI, all from one client socket) reach the
/// same socket, and each of the `shards` sockets gets 0.6/N to 1.4/N of the calls.
void expectCallsSteered(unsigned shards)
{
    auto group = bindGroup(shards);
    attachCallSteering(group.sockets.front().get(), shards);
    const auto client = udpSocket();
    ASSERT_EQ(bindTo(client, 0), 0);
    const std::uint16_t from = portOf(client);

    const auto numbers = dialledNumbers();
    std::vector<int> calls(shards, 0);
    for (const auto& number : numbers) {
        for (const char* method : {"INVITE", "CANCEL", "ACK"}) {
            sendTo(client, group.port, request(method, number, group.port, from));
        }
        const auto got = receive(group, 3);
        ASSERT_EQ(got.size(), 3u) << number;
        std::set<std::string> methods;
        for (const auto& [shard, text] : got) {
            EXPECT_EQ(shard, got.front().first) << number << ": " << text.substr(0, 40);
            EXPECT_NE(text.find(" sip:" + number + "@"), std::string::npos) << text;
            methods.insert(text.substr(0, text.find(' ')));
        }
        EXPECT_EQ(methods, (std::set<std::string>{"INVITE", "CANCEL", "ACK"})) << number;
        ++calls[got.front().first];
    }
    EXPECT_TRUE(groupIdle(group));

    std::string spread;
    for (unsigned i = 0; i < shards; ++i) {
        spread += (i ? " / " : "") + std::to_string(calls[i]);
        EXPECT_GE(calls[i], 0.6 * numbers.size() / shards) << "shard " << i;
        EXPECT_LE(calls[i], 1.4 * numbers.size() / shards) << "shard " << i;
    }
    ::testing::Test::RecordProperty("spread", spread);
    std::cout << "calls per shard (" << shards << "): " << spread << "\n";
}

TEST(CallSteering, BindInScopeSetsReusePortOnUdpAndTcp)
{
    Group g = bindGroup(1);
    // Outside a scope, bind() is plain: the port is taken.
    const auto plain = udpSocket();
    errno = 0;
    EXPECT_EQ(bindTo(plain, g.port), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    EXPECT_FALSE(reusePortSet(plain.get()));

    UdpBinds scope(true);
    const auto shared = udpSocket();
    EXPECT_EQ(bindTo(shared, g.port), 0) << std::system_category().message(errno);
    EXPECT_TRUE(reusePortSet(shared.get()));

    // TCP too (the threads share the TCP listen ports; Debian's sofia-sip does not set it) ...
    Fd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_GE(tcp.get(), 0);
    EXPECT_EQ(bindTo(tcp, 0), 0);
    EXPECT_TRUE(reusePortSet(tcp.get()));

    // ... and errors are bind()'s own.
    errno = 0;
    EXPECT_EQ(bindTo(Fd(-1), 0), -1);
    EXPECT_EQ(errno, EBADF);
}

TEST(CallSteering, UdpBindsNotesTheUdpSocketsBoundInScope)
{
    const auto a = udpSocket();
    const auto taken = udpSocket();
    const auto b = udpSocket();
    Fd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_GE(tcp.get(), 0);

    UdpBinds outer(false);
    ASSERT_EQ(bindTo(a, 0), 0);
    EXPECT_FALSE(reusePortSet(a.get()));
    errno = 0;
    EXPECT_EQ(bindTo(taken, portOf(a)), -1);  // failed: not noted
    EXPECT_EQ(errno, EADDRINUSE);
    EXPECT_EQ(bindTo(tcp, 0), 0);  // not UDP: not noted
    {
        UdpBinds inner(true);
        ASSERT_EQ(bindTo(b, 0), 0);
        EXPECT_TRUE(reusePortSet(b.get()));
        EXPECT_EQ(inner.sockets(), std::vector<int>{b.get()});
    }
    EXPECT_EQ(outer.sockets(), (std::vector<int>{a.get(), b.get()}));

    // A socket bound and closed in the scope (sofia-sip's port probes) is left out, also when
    // a later socket gets its descriptor.
    const int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(probe, 0);
    const auto probeAddr = loopback(0);
    ASSERT_EQ(::bind(probe, reinterpret_cast<const sockaddr*>(&probeAddr), sizeof probeAddr), 0);
    ::close(probe);
    {
        const auto next = udpSocket();
        EXPECT_EQ(next.get(), probe);  // the lowest free descriptor
        ASSERT_EQ(bindTo(next, 0), 0);
        EXPECT_EQ(outer.sockets(), (std::vector<int>{a.get(), b.get(), next.get()}));
    }
    EXPECT_EQ(outer.sockets(), (std::vector<int>{a.get(), b.get()}));
}

TEST(CallSteering, TwoShardsKeepTransactionsTogetherAndSpreadCalls)
{
    expectCallsSteered(2);
}

TEST(CallSteering, ThreeShardsKeepTransactionsTogetherAndSpreadCalls)
{
    expectCallsSteered(3);
}

TEST(CallSteering, RequestsWithinACallGoToTheThreadItsContactNames)
{
    constexpr unsigned kShards = 3;
    auto group = bindGroup(kShards);
    attachCallSteering(group.sockets.front().get(), kShards);
    const auto client = udpSocket();
    ASSERT_EQ(bindTo(client, 0), 0);
    EXPECT_EQ(shardContactUser(0), "~a");
    EXPECT_EQ(shardContactUser(2), "~c");
    // From one client socket, every method a peer may send within a dialog (3 to 9 letters).
    for (unsigned shard = 0; shard < kShards; ++shard) {
        for (const char* method : {"ACK", "BYE", "INFO", "PRACK", "UPDATE", "INVITE", "OPTIONS",
                                   "SUBSCRIBE"}) {
            sendTo(client, group.port,
                   request(method, shardContactUser(shard), group.port, portOf(client)));
            const auto got = receive(group, 1);
            ASSERT_EQ(got.size(), 1u) << method;
            EXPECT_EQ(got.front().first, shard) << got.front().second.substr(0, 40);
        }
    }
    EXPECT_TRUE(groupIdle(group));
}

TEST(CallSteering, DatagramTooShortGoesToTheFirstSocket)
{
    auto group = bindGroup(3);
    attachCallSteering(group.sockets.back().get(), 3);
    // From eight source ports, which the kernel's own hash would scatter.
    std::vector<Fd> clients;
    for (int i = 0; i < 8; ++i) {
        clients.push_back(udpSocket());
        ASSERT_EQ(bindTo(clients.back(), 0), 0);
        sendTo(clients.back(), group.port, "TEST");
    }
    const auto got = receive(group, clients.size());
    ASSERT_EQ(got.size(), clients.size());
    for (const auto& [shard, text] : got) {
        EXPECT_EQ(shard, 0u);
        EXPECT_EQ(text, "TEST");
    }
}

TEST(CallSteering, OneShardAttachesNothing)
{
    auto group = bindGroup(2);
    const int fd = group.sockets.front().get();
    EXPECT_NO_THROW(attachCallSteering(fd, 1));
    EXPECT_NO_THROW(attachCallSteering(-1, 1));
    const int unused = 0;
    errno = 0;
    EXPECT_NE(::setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof unused), 0);
    EXPECT_EQ(errno, ENOENT);  // no program in the group

    attachCallSteering(fd, 2);
    EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof unused), 0)
        << std::system_category().message(errno);
}

TEST(CallSteering, AttachFailureNamesTheSetsockopt)
{
    const auto lone = udpSocket();  // no SO_REUSEPORT: there is no group to attach to
    try {
        attachCallSteering(lone.get(), 2);
        ADD_FAILURE() << "attached to a socket without SO_REUSEPORT";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EINVAL);
        EXPECT_NE(std::string(e.what()).find("SO_ATTACH_REUSEPORT_CBPF"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(callSteeringProgram(0), std::invalid_argument);
}

}  // namespace
}  // namespace ss::sig
