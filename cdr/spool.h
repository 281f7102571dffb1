// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to cdr/: the local CDR spool, a JSON-lines file `<dir>/cdr.spool` (one CDR with its
// attempts per line). Replay first renames it to `cdr.spool.replay`, so appends never wait for
// the database and a crash mid-replay loses nothing (the sink ignores duplicates).

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

/// Parses one spool line. Throws std::runtime_error when it is not a complete record.
CdrRecord decodeSpoolLine(std::string_view line);

class Spool {
public:
    /// Creates `dir` (and its parents) if missing. Throws ConfigError when it is not usable.
    explicit Spool(std::string dir);

    /// Appends `records` and fsyncs before returning. Throws std::system_error on I/O failure
    /// (then some of the lines may be there, which replay tolerates). Thread: any.
    void append(const std::vector<CdrRecord>& records);

    /// True when spooled CDRs wait for replay. Thread: any.
    bool hasPending() const;

    /// Writes every spooled CDR to `sink` in batches of at most `maxBatch`, oldest first, and
    /// removes them from the spool once written. Unreadable lines are skipped with a warning.
    /// Returns how many CDRs were written. When the sink throws, what was not written stays
    /// spooled and the exception propagates. Thread: one replayer at a time.
    std::size_t replay(CdrSink& sink, std::size_t maxBatch);

    const std::string& spoolPath() const { return spoolPath_; }
    const std::string& replayPath() const { return replayPath_; }

private:
    std::size_t replayFile(CdrSink& sink, std::size_t maxBatch);
    // Drops the replay file's bytes before `offset` (already written to the sink).
    void trimReplayFile(std::streamoff offset);

    std::string dir_;
    std::string spoolPath_;
    std::string replayPath_;
    mutable std::mutex mutex_;  // serialises appends with the rename that starts a replay
};

}  // namespace ss::cdr
