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
#include "tests/load/bench_args.h"
#include "tests/support/cdr_records.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

struct Options {
    std::string dir;
    long calls = 60000;
    long compactMib = 64;  // CallJournal's default
};

long number(const char* name, const char* text)
{
    return ss::bench::positiveNumber("journal_bench", name, text);
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
        // An answered call with two attempts (~1.6 KB of journal with its start line, as the
        // switch's calls in sip_bench).
        const auto record = ss::cdr::testing::makeRecord(static_cast<int>(n));
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
