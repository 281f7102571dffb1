// SPDX-License-Identifier: Apache-2.0
#include "tests/support/cdr_records.h"

#include "common/clock.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <stdexcept>

namespace ss::cdr::testing {

CdrRecord makeRecord(int n)
{
    using namespace std::chrono_literals;
    common::ManualClock clock;
    clock.advance(std::chrono::seconds(n) + 123456us);
    const auto t0 = clock.systemNow();
    CdrRecord r;
    r.node = "node-a";
    r.callId = "call-" + std::to_string(n);
    r.caller = "4930123";
    r.callee = "4989" + std::to_string(n);
    r.calleeOut = "0049" + std::to_string(n);
    r.originGateway = "orig1";
    r.originAddr = "10.0.0.1:5060";
    r.termGateway = "term2";
    r.termAddr = "10.0.1.2:5060";
    r.setupAt = t0;
    r.ringAt = t0 + 1500ms;
    r.answerAt = t0 + 3250ms;
    r.endAt = t0 + 63250ms;
    r.endDirection = EndDirection::Callee;
    r.endReason = "callee_bye";
    r.disposition = "recv_bye";
    r.sipCode = 200;
    r.sipReason = "OK";
    r.q850Cause = 16;
    r.attempts.push_back({1, "term1", "10.0.1.1:5060", "udp", t0 + 10ms, t0 + 510ms, 503,
                          "rejected"});
    r.attempts.push_back({2, "term2", "10.0.1.2:5060", "tcp", t0 + 520ms, t0 + 63250ms, 200,
                          "answered"});
    return r;
}

bool sameRecord(const CdrRecord& a, const CdrRecord& b)
{
    const auto sameAttempt = [](const CdrAttempt& x, const CdrAttempt& y) {
        return x.seq == y.seq && x.gateway == y.gateway && x.addr == y.addr &&
               x.transport == y.transport && x.startedAt == y.startedAt &&
               x.endedAt == y.endedAt && x.sipCode == y.sipCode && x.outcome == y.outcome;
    };
    if (a.attempts.size() != b.attempts.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.attempts.size(); ++i) {
        if (!sameAttempt(a.attempts[i], b.attempts[i])) {
            return false;
        }
    }
    return a.node == b.node && a.callId == b.callId && a.caller == b.caller &&
           a.callee == b.callee && a.calleeOut == b.calleeOut &&
           a.originGateway == b.originGateway && a.originAddr == b.originAddr &&
           a.termGateway == b.termGateway && a.termAddr == b.termAddr && a.setupAt == b.setupAt &&
           a.ringAt == b.ringAt && a.answerAt == b.answerAt && a.endAt == b.endAt &&
           a.endDirection == b.endDirection && a.endReason == b.endReason &&
           a.disposition == b.disposition && a.sipCode == b.sipCode &&
           a.sipReason == b.sipReason && a.q850Cause == b.q850Cause;
}

TempDir::TempDir()
{
    std::string pattern = ::testing::TempDir() + "ss_cdr_test_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> readLines(const std::filesystem::path& path)
{
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            lines.push_back(line);
        }
    }
    return lines;
}

}  // namespace ss::cdr::testing
