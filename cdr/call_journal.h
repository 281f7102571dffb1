// SPDX-License-Identifier: Apache-2.0
#pragma once

// The crash journal (issue 5 §3): what a SIGKILL or a power cut must not take with it. Calls in
// progress are journalled when they start and when they are answered, and a heartbeat line
// every few seconds says "every call in progress was still up now"; a call's final CDR is
// journalled before it is handed to the CDR writer. After a crash the next start reads the
// journal back: every ended call's CDR is submitted again (the database ignores the ones it
// already has: unique node + call id), and every call still in progress gets a CDR ended at its
// last journalled instant with `switch`/`switch_restart` — billed as far as is known, never for
// longer.
//
// File: `<dir>/calls.journal`, JSON lines (`{"op":"start"|"up"|"end","cdr":{spool record}}`,
// `{"op":"beat","at_ns":N}`). Appends are plain write(2)s (a killed process loses nothing the
// kernel has); a background thread fdatasync()s within kSyncEvery of a change, so after a
// power cut at most that much is lost. The sync thread also compacts the file (rewrite +
// rename, off the sip-loop) when it grows past a size: calls in progress and ended CDRs the
// writer has not delivered yet are kept.

#include "cdr/cdr_record.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ss::cdr {

class CallJournal {
public:
    static constexpr auto kSyncEvery = std::chrono::milliseconds(50);

    /// What a journal left behind by an earlier run says must be written: the CDRs to submit
    /// (ended ones as they were, calls in progress as switch_restart), oldest first.
    static std::vector<CdrRecord> recover(const std::string& dir);

    /// Starts a fresh journal in `dir` (created if missing), replacing any old one: recover()
    /// and deliver what it returned first. `delivered` says how many CDRs the writer has put
    /// in the database or the spool so far (CdrWriter::deliveredCount); compaction keeps an
    /// ended CDR until that count passes its ticket. Throws std::system_error on I/O errors.
    CallJournal(const std::string& dir, std::function<std::uint64_t()> delivered,
                std::size_t compactAbove = 64 * 1024 * 1024);
    ~CallJournal();
    CallJournal(const CallJournal&) = delete;
    CallJournal& operator=(const CallJournal&) = delete;

    /// A call began (its CDR so far). Thread: any (every SIP thread journals its own calls;
    /// each method locks).
    void started(const CdrRecord& partial);
    /// A call was answered (its CDR so far, answer time and attempt chain included).
    void answered(const CdrRecord& partial);
    /// A call ended with `final`: journalled, then handed to the writer by `submit`, which
    /// returns its ticket (CdrWriter::submit; 0 = already durable).
    void ended(const CdrRecord& final, const std::function<std::uint64_t()>& submit);
    /// Every call in progress was still up at `now`.
    void beat(common::SysTime now);

    std::string path() const { return path_; }
    std::size_t inProgress() const;

private:
    void append(const std::string& line);
    /// Rewrites the file with what is still needed; called by the sync thread with `lock`
    /// held, which it releases while it writes.
    void compact(std::unique_lock<std::mutex>& lock);
    void syncLoop();

    std::string dir_;
    std::string path_;
    std::function<std::uint64_t()> delivered_;
    std::size_t compactAbove_;
    std::size_t compactAfter_;  // compact when the file passes this (raised after a failure)

    mutable std::mutex mutex_;
    int fd_ = -1;
    std::size_t size_ = 0;
    bool dirty_ = false;
    bool stopping_ = false;
    std::vector<int> retired_;  // fds replaced by compaction, closed by the sync thread
    bool compacting_ = false;   // a compaction is writing the new file
    std::string sinceSnapshot_;  // lines appended meanwhile, for the new file
    // A line is shared by this index and compact()'s snapshot, so the snapshot under the lock
    // copies pointers, not the lines: with 50,000 calls up that is ~30 MB the sip-loop would
    // otherwise wait for at every compaction.
    using Line = std::shared_ptr<const std::string>;
    std::map<std::string, Line> open_;  // call id (node + id) -> its latest line
    std::string lastBeat_;              // the latest beat line
    struct Ended {
        std::uint64_t ticket;
        Line line;
    };
    std::vector<Ended> ended_;  // not yet known to be delivered, in ticket order
    std::condition_variable wake_;
    std::thread syncer_;
};

}  // namespace ss::cdr
