// SPDX-License-Identifier: Apache-2.0
#include "switch/sofia/call_steering.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ss::sig {

namespace {

// Four words of the user part: up to 15 digits and the '@' of an E.164 number. Multiplying (by
// the golden-ratio constant, odd) carries a word's bits only upwards, and the digits of two
// numbers differ mostly in the low bits of their bytes, so every step folds the high half back
// down; the end is murmur3's fmix32, so that the modulo depends on every bit of the hash. With
// the multiplications alone (and A >> 16 before the modulo), two shards could not tell apart
// numbers that differ only in the first digit of each word (4420a000b000c): all 1,000 went to
// one shard.
constexpr std::uint32_t kMix = 0x9E3779B1;
constexpr std::uint32_t kFinal1 = 0x85EBCA6B;
constexpr std::uint32_t kFinal2 = 0xC2B2AE35;
constexpr std::uint32_t kSip = 0x7369703a;  // "sip:" as a big-endian word
// Scratch memory of the program.
constexpr std::uint32_t kBase = 0;  // where the Request-URI's "sip:" starts, minus one
constexpr std::uint32_t kHash = 1;

// This thread's scopes, read by bind() below: how many ask for SO_REUSEPORT, and the
// innermost UdpBinds (which links to the outer ones).
thread_local int reusePortDepth = 0;
thread_local UdpBinds* udpBinds = nullptr;

sock_filter stmt(std::uint16_t code, std::uint32_t k)
{
    return sock_filter{code, 0, 0, k};
}

sock_filter jeq(std::uint32_t k, std::uint8_t jt, std::uint8_t jf)
{
    return sock_filter{BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k};
}

}  // namespace

std::vector<sock_filter> callSteeringProgram(unsigned shards)
{
    if (shards == 0) {
        throw std::invalid_argument("callSteeringProgram: 0 shards");
    }
    // The kernel has pulled the UDP header: absolute loads address the payload, the SIP text.
    // A load past its end ends the program with 0, so a datagram too short for them goes to
    // socket 0; that is fine, since nothing that short is a request the shards must agree on.
    std::vector<sock_filter> p;
    // 1. The space after the method (ACK .. SUBSCRIBE: 3 to 9 letters), into X. None (a
    //    response, "SIP/2.0 ...", has it at 7 and is hashed like a request): as for INVITE.
    constexpr std::uint32_t kShortest = 3;
    constexpr std::uint32_t kLongest = 9;
    for (std::uint32_t at = kShortest; at <= kLongest; ++at) {
        const auto left = kLongest - at;  // candidates after this one, 4 instructions each
        p.push_back(stmt(BPF_LD | BPF_B | BPF_ABS, at));
        p.push_back(jeq(' ', 0, 2));
        p.push_back(stmt(BPF_LDX | BPF_IMM, at));
        p.push_back(stmt(BPF_JMP | BPF_JA, 4 * left + 1));
    }
    p.push_back(stmt(BPF_LDX | BPF_IMM, 6));  // "INVITE"
    // 2. X = the space. The switch's own Contact (the Request-URI of every request within a
    //    call it holds) names its thread: "sip:~" and a letter, 'a' for thread 0. Returned as
    //    it is: the kernel falls back to its own hash for an index past the group.
    p.push_back(stmt(BPF_STX, kBase));
    p.push_back(stmt(BPF_LD | BPF_W | BPF_IND, 1));
    p.push_back(jeq(kSip, 0, 5));
    p.push_back(stmt(BPF_LD | BPF_B | BPF_IND, 5));
    p.push_back(jeq('~', 0, 3));
    p.push_back(stmt(BPF_LD | BPF_B | BPF_IND, 6));
    p.push_back(stmt(BPF_ALU | BPF_SUB | BPF_K, 'a'));
    p.push_back(stmt(BPF_RET | BPF_A, 0));
    // 3. Otherwise the hash of the four words after "sip:" (the dialled number).
    p.push_back(stmt(BPF_LD | BPF_IMM, 0));
    p.push_back(stmt(BPF_ST, kHash));
    for (std::uint32_t i = 0; i < 4; ++i) {
        p.push_back(stmt(BPF_LDX | BPF_MEM, kBase));
        p.push_back(stmt(BPF_LD | BPF_W | BPF_IND, 5 + 4 * i));  // A = word (big-endian)
        p.push_back(stmt(BPF_LDX | BPF_MEM, kHash));
        p.push_back(stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
        p.push_back(stmt(BPF_ALU | BPF_MUL | BPF_K, kMix));
        p.push_back(stmt(BPF_MISC | BPF_TAX, 0));  // A ^= A >> 16
        p.push_back(stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
        p.push_back(stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
        p.push_back(stmt(BPF_ST, kHash));
    }
    p.push_back(stmt(BPF_ALU | BPF_MUL | BPF_K, kFinal1));
    p.push_back(stmt(BPF_MISC | BPF_TAX, 0));
    p.push_back(stmt(BPF_ALU | BPF_RSH | BPF_K, 13));
    p.push_back(stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
    p.push_back(stmt(BPF_ALU | BPF_MUL | BPF_K, kFinal2));
    p.push_back(stmt(BPF_MISC | BPF_TAX, 0));
    p.push_back(stmt(BPF_ALU | BPF_RSH | BPF_K, 16));
    p.push_back(stmt(BPF_ALU | BPF_XOR | BPF_X, 0));
    p.push_back(stmt(BPF_ALU | BPF_MOD | BPF_K, shards));
    p.push_back(stmt(BPF_RET | BPF_A, 0));
    return p;
}

std::string shardContactUser(unsigned index)
{
    return std::string("~") + static_cast<char>('a' + index);
}

void attachCallSteering(int fd, unsigned shards)
{
    if (shards <= 1) {
        return;
    }
    auto program = callSteeringProgram(shards);
    const sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "setsockopt(SO_ATTACH_REUSEPORT_CBPF) for " +
                                    std::to_string(shards) + " shards on fd " +
                                    std::to_string(fd));
    }
}

UdpBinds::UdpBinds(bool reusePort) : reusePort_(reusePort), outer_(udpBinds)
{
    udpBinds = this;
    reusePortDepth += reusePort_ ? 1 : 0;
}

UdpBinds::~UdpBinds()
{
    udpBinds = outer_;
    reusePortDepth -= reusePort_ ? 1 : 0;
}

namespace {

bool sameSocket(int fd, std::uint64_t inode)
{
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode;
}

}  // namespace

std::vector<int> UdpBinds::sockets() const
{
    std::vector<int> out;
    for (const auto& b : bound_) {
        if (sameSocket(b.fd, b.inode)) {
            out.push_back(b.fd);
        }
    }
    return out;
}

struct UdpBindsAccess {
    static void bound(int fd)
    {
        if (udpBinds == nullptr) {
            return;
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            return;  // cannot be: bind just succeeded on it
        }
        // Out of memory here ends the process (noexcept), as it would anywhere on the thread.
        for (UdpBinds* scope = udpBinds; scope != nullptr; scope = scope->outer_) {
            scope->bound_.push_back({fd, static_cast<std::uint64_t>(st.st_ino)});
        }
    }
};

}  // namespace ss::sig

// Interposes libc's bind() (same prototype: glibc declares it __THROW, i.e. noexcept in C++),
// for UdpBinds. This file is linked into every binary that links ss_switch,
// since sofia_runtime.cpp uses its functions; and GNU ld exports bind from the executable to
// the dynamic symbol table because libsofia-sip-ua references it, so sofia-sip's calls resolve
// here too. Outside a scope (and for other sockets) it is plain bind(2): the system call, errno
// and all. Thread: any.
extern "C" int bind(int fd, const struct sockaddr* addr, socklen_t len) noexcept
{
    using namespace ss::sig;
    if (reusePortDepth == 0 && udpBinds == nullptr) {
        return static_cast<int>(syscall(SYS_bind, fd, addr, len));
    }
    const int saved = errno;
    int type = 0;
    int domain = 0;
    socklen_t typeLen = sizeof type;
    socklen_t domainLen = sizeof domain;
    // If these fail (not a socket, ...), bind itself reports it below.
    const bool ip = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLen) == 0 &&
                    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domainLen) == 0 &&
                    (domain == AF_INET || domain == AF_INET6);
    const bool udp = ip && type == SOCK_DGRAM;
    if (ip && (udp || type == SOCK_STREAM) && reusePortDepth > 0) {
        const int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
            return -1;
        }
    }
    errno = saved;
    const int rc = static_cast<int>(syscall(SYS_bind, fd, addr, len));
    if (rc == 0 && udp) {
        UdpBindsAccess::bound(fd);
    }
    return rc;
}
