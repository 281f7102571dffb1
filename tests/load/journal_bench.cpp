// SPDX-License-Identifier: Apache-2.0
// Crash-journal benchmark (issue 7: 50,000 concurrent calls): how long the sip-loop's journal
// calls (started + answered, as the switch makes them for every call it puts through) take while
// the journal fills and its sync thread compacts it. Not a test: run it by hand
// (tests/load/README.md).
//
//   journal_bench --dir DIR [--calls N] [--compact-mib N]
//
// DIR is emptied first and left with the journal. Prints every started + answered pair that took
// over 5 ms, then the slowest; the calls are never ended, as with calls held up.

#include "cdr/call_journal.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using namespace std::chrono_literals;

struct Options {
    std::string dir;
    long calls = 60000;
    long compactMib = 64;  // CallJournal's default
};

long number(const char* name, const char* text)
{
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value <= 0) {
        std::fprintf(stderr, "journal_bench: %s: \"%s\" is not a positive integer\n", name, text);
        std::exit(2);
    }
    return value;
}

Options parse(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        if (name == "--dir") {
            o.dir = argv[i + 1];
        } else if (name == "--calls") {
            o.calls = number("--calls", argv[i + 1]);
        } else if (name == "--compact-mib") {
            o.compactMib = number("--compact-mib", argv[i + 1]);
        } else {
            std::fprintf(stderr, "journal_bench: unknown option %s\n", name.c_str());
            std::exit(2);
        }
    }
    if (o.dir.empty() || argc % 2 == 0) {
        std::fprintf(stderr, "usage: journal_bench --dir DIR [--calls N] [--compact-mib N]\n");
        std::exit(2);
    }
    return o;
}

// A call as the switch journals it once answered: two attempts, the second answered
// (~1.1 KB as a journal line, like sip_bench's calls).
ss::cdr::CdrRecord makeCall(long n, ss::common::SysTime t)
{
    ss::cdr::CdrRecord r;
    r.node = "bench";
    r.callId = std::to_string(n) + "-32508@127.0.0.1";
    r.caller = "15550001000";
    r.callee = "15551234567";
    r.originGateway = "orig1";
    r.originAddr = "127.0.0.1:51122";
    r.termGateway = "term1";
    r.termAddr = "127.0.0.1:40000";
    r.setupAt = t;
    r.ringAt = t + 100ms;
    r.answerAt = t + 200ms;
    r.attempts.push_back({1, "term2", "127.0.0.1:40002", "udp", t, t + 50ms, 503, "rejected"});
    r.attempts.push_back({2, "term1", "127.0.0.1:40000", "udp", t + 50ms, t, 200, "answered"});
    return r;
}

}  // namespace

int main(int argc, char** argv)
{
    const Options o = parse(argc, argv);
    std::filesystem::remove_all(o.dir);
    ss::cdr::CallJournal journal(
        o.dir, [] { return std::uint64_t{0}; },
        static_cast<std::size_t>(o.compactMib) * 1024 * 1024);
    const ss::common::SystemClock clock;
    double worstMs = 0;
    long worstAt = 0;
    for (long n = 0; n < o.calls; ++n) {
        const auto record = makeCall(n, clock.systemNow());
        const auto t0 = clock.monotonicNow();
        journal.started(record);
        journal.answered(record);
        const double ms =
            std::chrono::duration<double, std::milli>(clock.monotonicNow() - t0).count();
        if (ms > 5) {
            std::printf("call %ld: %.1f ms\n", n, ms);
        }
        if (ms > worstMs) {
            worstMs = ms;
            worstAt = n;
        }
    }
    std::printf("%ld calls up, journal %.1f MiB: slowest started + answered %.1f ms (call %ld)\n",
                o.calls,
                static_cast<double>(std::filesystem::file_size(journal.path())) / 1048576.0,
                worstMs, worstAt);
    return 0;
}
