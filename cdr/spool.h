// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to cdr/: the local CDR spool, a JSON-lines file `<dir>/cdr.spool` (one CDR with its
// attempts per line). Replay first renames it to `cdr.spool.replay`, so appends never wait for
// the database and a crash mid-replay loses nothing (the sink ignores duplicates).
//
// CDRs the sink refuses for good go to the dead-letter file `<dir>/rejected.jsonl`: the same
// line format plus a "rejected" member (the reason), which decodeSpoolLine() ignores. Nothing
// reads that file back; an operator repairs the lines and feeds them in again: with the
// daemon stopped, append them to `<dir>/cdr.spool` (the next start replays it; calls already
// stored are ignored). Appending while it runs is not safe: a replay may be renaming the file.

#include "cdr/cdr_record.h"
#include "cdr/cdr_writer.h"

#include <cstddef>
#include <ios>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ss::cdr {

/// One spool line (without the newline). Times keep full clock precision. Strings that are not
/// valid UTF-8 have the bad bytes replaced by U+FFFD.
std::string encodeSpoolLine(const CdrRecord& record);
/// The same line built as a nlohmann::json tree and dumped: what encodeSpoolLine (written
/// directly, for speed) is checked against in the tests.
std::string encodeSpoolLineViaTree(const CdrRecord& record);

/// Parses one spool line. Throws std::runtime_error when it is not a complete record.
CdrRecord decodeSpoolLine(std::string_view line);

class Spool {
public:
    /// Creates `dir` (and its parents) if missing. Throws ConfigError when it is not usable.
    explicit Spool(std::string dir);

    /// Appends `records` and fsyncs before returning. Throws std::system_error on I/O failure
    /// (then some of the lines may be there, which replay tolerates). Thread: any.
    void append(const std::vector<CdrRecord>& records);

    /// Appends `rejected` to the dead-letter file, fsyncs, and logs each at error level with
    /// its call id. Throws std::system_error on I/O failure (the caller keeps the CDRs then).
    /// Thread: any.
    void reject(const std::vector<RejectedCdr>& rejected);

    /// True when spooled CDRs wait for replay. Thread: any.
    bool hasPending() const;
    /// Bytes waiting for replay (spool plus a replay in progress). Thread: any.
    std::uint64_t pendingBytes() const;

    /// Writes every spooled CDR to `sink` in batches of at most `maxBatch`, oldest first, and
    /// removes them from the spool once written; those the sink refuses go to reject().
    /// Unreadable lines are skipped with a warning. Returns how many CDRs were taken by the
    /// sink (refused ones included). When the sink or reject() throws, what was not written
    /// stays spooled and the exception propagates. Thread: one replayer at a time.
    std::size_t replay(CdrSink& sink, std::size_t maxBatch);

    const std::string& spoolPath() const { return spoolPath_; }
    const std::string& replayPath() const { return replayPath_; }
    const std::string& rejectedPath() const { return rejectedPath_; }

private:
    std::size_t replayFile(CdrSink& sink, std::size_t maxBatch);
    // Drops the replay file's bytes before `offset` (already written to the sink).
    void trimReplayFile(std::streamoff offset);

    std::string dir_;
    std::string spoolPath_;
    std::string replayPath_;
    std::string rejectedPath_;
    mutable std::mutex mutex_;  // serialises appends with the rename that starts a replay
};

}  // namespace ss::cdr
