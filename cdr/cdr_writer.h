// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cdr/cdr_record.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace ss::cdr {

/// Where CDR batches go (PostgreSQL in production). `write()` stores the whole batch or
/// throws; storing the same (node, call_id) twice must not duplicate it. Thread: the writer's.
class CdrSink {
public:
    virtual ~CdrSink() = default;
    virtual void write(const std::vector<CdrRecord>& batch) = 0;
};

struct CdrWriterConfig {
    std::size_t queueCapacity = 200000;
    std::size_t maxBatch = 1000;
    std::string spoolDir;  // CDRs that cannot be written go here and are replayed
    common::Millis retryInitial{1000};  // first wait before retrying a failed sink
    common::Millis retryMax{10000};     // the wait doubles up to this
};

/// Takes CDRs from the SIP thread without blocking it and writes them in batches on its own
/// thread. When the sink fails (database down) the batch is appended to the spool and replayed
/// once the sink works again (retried after retryInitial, doubling up to retryMax); when the
/// queue is full the CDR is spooled directly. Spool format and files: cdr/spool.h.
class CdrWriter {
public:
    virtual ~CdrWriter() = default;
    /// Hands one CDR over. Never blocks on I/O of the database. Thread: any.
    virtual void submit(CdrRecord&& record) = 0;
    /// Blocks until every CDR submitted so far is in the sink or durably in the spool.
    /// Thread: any but the writer's.
    virtual void flush() = 0;
    /// flush(), then stops the writer thread. Idempotent. A sink that is failing at that point
    /// is not retried: its CDRs stay in the spool and are replayed by the next writer started
    /// on the same spool directory. CDRs submitted after stop() go straight to the spool.
    virtual void stop() = 0;
    /// CDRs waiting in memory.
    virtual std::size_t queueDepth() const = 0;
};

/// The standard writer: bounded queue, one writer thread, JSON-lines spool under
/// `config.spoolDir` (created if missing). Replays any spool left by an earlier run on start.
/// Throws ConfigError when the spool directory is unusable.
std::unique_ptr<CdrWriter> makeCdrWriter(std::unique_ptr<CdrSink> sink, CdrWriterConfig config);

}  // namespace ss::cdr
