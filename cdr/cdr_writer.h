// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cdr/cdr_record.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ss::cdr {

/// A CDR the sink refused for good: the database does not accept one of its values (a bug
/// upstream), so retrying cannot help. It goes to the dead-letter file (cdr/spool.h).
struct RejectedCdr {
    CdrRecord record;
    std::string reason;  // why, on one line (the database's message)
};

/// Where CDR batches go (PostgreSQL in production). Storing the same (node, call_id) twice
/// must not duplicate it. Thread: the writer's.
class CdrSink {
public:
    virtual ~CdrSink() = default;
    /// Stores every record of `batch` except those refused for good, which are returned (the
    /// others are stored all the same). Throws when the batch was not stored (database down,
    /// commit in doubt, ...): then the whole batch is retried later.
    virtual std::vector<RejectedCdr> write(const std::vector<CdrRecord>& batch) = 0;
};

struct CdrWriterConfig {
    std::size_t queueCapacity = 200000;
    std::size_t maxBatch = 1000;
    // How long the first CDR of a batch may wait for more before the batch is written, unless
    // maxBatch are queued first, flush() asks for them, or the writer stops. Fewer, larger
    // transactions cost PostgreSQL and this process less CPU per CDR (tests/load/README.md);
    // 20 ms keeps a CDR well inside the 100 ms it may take to be durable (issue 5 §3).
    common::Millis linger{20};
    std::string spoolDir;  // CDRs that cannot be written go here and are replayed
    common::Millis retryInitial{1000};  // first wait before retrying a failed sink
    common::Millis retryMax{10000};     // the wait doubles up to this
};

/// Takes CDRs from the SIP thread without blocking it and writes them in batches on its own
/// thread. When the sink fails (database down) the batch is appended to the spool and replayed
/// once the sink works again (retried after retryInitial, doubling up to retryMax); when the
/// queue is full the CDR is spooled directly. A CDR the sink refuses for good is appended to
/// the dead-letter file `<spoolDir>/rejected.jsonl` and logged at error level, never retried
/// automatically. Spool format and files: cdr/spool.h.
class CdrWriter {
public:
    virtual ~CdrWriter() = default;
    /// Hands one CDR over. Never blocks on I/O of the database. Returns its ticket: it is
    /// delivered (in the sink or the spool) once deliveredCount() reaches the ticket; 0 when
    /// it was spooled at once (already durable, or lost with an error logged). Thread: any.
    virtual std::uint64_t submit(CdrRecord&& record) = 0;
    /// How many queued CDRs are in the sink or the spool so far (in submit order).
    virtual std::uint64_t deliveredCount() const = 0;
    /// Blocks until every CDR submitted so far is in the sink or durably in the spool.
    /// Thread: any but the writer's.
    virtual void flush() = 0;
    /// flush(), then stops the writer thread. Idempotent. A sink that is failing at that point
    /// is not retried: its CDRs stay in the spool and are replayed by the next writer started
    /// on the same spool directory. CDRs submitted after stop() go straight to the spool.
    virtual void stop() = 0;
    /// CDRs waiting in memory.
    virtual std::size_t queueDepth() const = 0;
    /// Bytes of CDRs in the spool, waiting for the database.
    virtual std::uint64_t spoolBytes() const = 0;
};

/// The standard writer: bounded queue, one writer thread, JSON-lines spool under
/// `config.spoolDir` (created if missing). Replays any spool left by an earlier run on start.
/// Throws ConfigError when the spool directory is unusable.
std::unique_ptr<CdrWriter> makeCdrWriter(std::unique_ptr<CdrSink> sink, CdrWriterConfig config);

}  // namespace ss::cdr
