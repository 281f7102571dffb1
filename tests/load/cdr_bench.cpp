// SPDX-License-Identifier: Apache-2.0
// CDR ingest benchmark (issue 5): writes generated CDRs through the real PostgreSQL sink
// (cdr::makePgCdrSink, one transaction per batch) from N writer threads and reports CDRs/s.
// Not a test: run it by hand against a throwaway database (tests/load/README.md).
//
//   cdr_bench --db DSN [--cdrs N] [--batch N] [--threads N] [--node NAME]
//
// The database must be migrated (`swctl db migrate`). The calls are set up "now" (so they go to
// today's partition), with two attempts each, like the switch writes them.

#include "cdr/store.h"
#include "tests/load/bench_args.h"
#include "common/clock.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ss::cdr::CdrRecord;

struct Options {
    std::string db;
    long cdrs = 200000;
    long batch = 1000;
    int threads = 2;
    std::string node = "bench";
};

// A realistic mix: most answered after ringing, some rejected, a few failing over.
CdrRecord makeCdr(const Options& o, int thread, long n, ss::common::SysTime t0)
{
    CdrRecord r;
    r.node = o.node;
    r.callId = "bench-" + std::to_string(thread) + "-" + std::to_string(n) + "@10.0.0.1";
    r.caller = "4930" + std::to_string(1000000 + n % 900000);
    r.callee = "4989" + std::to_string(2000000 + (n * 7) % 900000);
    r.calleeOut = "0049" + r.callee.substr(2);
    r.originGateway = "orig" + std::to_string(n % 4);
    r.originAddr = "10.0.0." + std::to_string(1 + n % 4) + ":5060";
    r.termGateway = "term" + std::to_string(n % 20);
    r.termAddr = "10.0.1." + std::to_string(1 + n % 20) + ":5060";
    r.setupAt = t0 + std::chrono::microseconds(n * 37);
    // PDDs spread over 0.3-12 s, so the rollup's PDD histograms (schema/0004) fill up as they
    // would with real traffic, rather than one bucket.
    r.ringAt = r.setupAt + std::chrono::milliseconds(300 + (n * 7919) % 11700);
    const bool answered = n % 10 < 6;
    if (answered) {
        r.answerAt = *r.ringAt + 2800ms;
        r.endAt = *r.answerAt + std::chrono::seconds(n % 300);
        r.endDirection = ss::cdr::EndDirection::Caller;
        r.endReason = "caller_bye";
        r.disposition = "recv_bye";
        r.sipCode = 200;
        r.sipReason = "OK";
    } else {
        r.endAt = *r.ringAt + 7800ms;
        r.endDirection = ss::cdr::EndDirection::Callee;
        r.endReason = "callee_rejected";
        r.disposition = "recv_refuse";
        r.sipCode = 486;
        r.sipReason = "Busy Here";
    }
    r.q850Cause = ss::cdr::q850ForSip(r.sipCode);
    r.attempts.push_back({1, "term" + std::to_string((n + 1) % 20), "10.0.1.99:5060", "udp",
                          r.setupAt + 5ms, r.setupAt + 505ms, 503, "rejected"});
    r.attempts.push_back({2, r.termGateway, r.termAddr, "udp", r.setupAt + 510ms, r.endAt,
                          r.sipCode, answered ? "answered" : "rejected"});
    return r;
}

long number(const char* name, const char* text)
{
    return ss::bench::positiveNumber("cdr_bench", name, text);
}

Options parse(int argc, char** argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        if (name == "--db") {
            o.db = argv[i + 1];
        } else if (name == "--cdrs") {
            o.cdrs = number("--cdrs", argv[i + 1]);
        } else if (name == "--batch") {
            o.batch = number("--batch", argv[i + 1]);
        } else if (name == "--threads") {
            o.threads = static_cast<int>(number("--threads", argv[i + 1]));
        } else if (name == "--node") {
            o.node = argv[i + 1];
        } else {
            std::fprintf(stderr, "cdr_bench: unknown option %s\n", name.c_str());
            std::exit(2);
        }
    }
    if (o.db.empty() || argc % 2 == 0) {
        std::fprintf(stderr, "usage: cdr_bench --db DSN [--cdrs N] [--batch N] [--threads N] "
                             "[--node NAME]\n");
        std::exit(2);
    }
    return o;
}

}  // namespace

int main(int argc, char** argv)
{
    const Options o = parse(argc, argv);
    const ss::common::SystemClock clock;
    const auto t0 = clock.systemNow() - 1h;
    // Batches are built before the clock starts: this measures the sink and the database.
    std::vector<std::vector<std::vector<CdrRecord>>> work(o.threads);
    const long perThread = o.cdrs / o.threads;
    for (int t = 0; t < o.threads; ++t) {
        for (long n = 0; n < perThread; n += o.batch) {
            std::vector<CdrRecord> batch;
            for (long i = n; i < std::min(perThread, n + o.batch); ++i) {
                batch.push_back(makeCdr(o, t, i, t0));
            }
            work[t].push_back(std::move(batch));
        }
    }
    std::atomic<long> written{0};
    std::atomic<bool> failed{false};
    const auto start = clock.monotonicNow();
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto sink = ss::cdr::makePgCdrSink(o.db);
                for (const auto& batch : work[t]) {
                    if (!sink->write(batch).empty()) {
                        std::fprintf(stderr, "cdr_bench: the database refused CDRs\n");
                        failed = true;
                    }
                    written += static_cast<long>(batch.size());
                }
            } catch (const std::exception& e) {
                std::fprintf(stderr, "cdr_bench: %s\n", e.what());
                failed = true;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    const double seconds =
        std::chrono::duration<double>(clock.monotonicNow() - start).count();
    std::printf("wrote %ld CDRs (%ld attempts) in %.3f s with %d thread(s), %ld per batch: "
                "%.0f CDRs/s\n",
                written.load(), written.load() * 2, seconds, o.threads, o.batch,
                static_cast<double>(written.load()) / seconds);
    return failed ? 1 : 0;
}
