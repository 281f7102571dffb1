// SPDX-License-Identifier: Apache-2.0
#include "cdr/cdr_writer.h"

#include "cdr/cdr_log.h"
#include "cdr/spool.h"
#include "common/clock.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

namespace ss::cdr {

namespace {

// Delivery of queued CDRs: to the sink while it works; while it fails ("degraded"), to the spool,
// with spool replays retried at growing intervals. CDRs that neither the sink nor the spool took
// stay in `held_` and block further delivery, so the flush counters stay in order.
class CdrWriterImpl final : public CdrWriter {
public:
    CdrWriterImpl(std::unique_ptr<CdrSink> sink, CdrWriterConfig config)
        : sink_(std::move(sink)), config_(std::move(config)), spool_(config_.spoolDir)
    {
        config_.maxBatch = std::max<std::size_t>(config_.maxBatch, 1);
        config_.queueCapacity = std::max<std::size_t>(config_.queueCapacity, 1);
        spoolPending_ = spool_.hasPending();
        thread_ = std::thread([this] { run(); });
    }

    ~CdrWriterImpl() override { stop(); }

    std::uint64_t submit(CdrRecord&& record) override
    {
        const char* why = nullptr;
        {
            std::lock_guard lock(mutex_);
            if (!stopping_ && queue_.size() < config_.queueCapacity) {
                if (queue_.empty()) {
                    queuedSince_ = clock_.monotonicNow();
                }
                queue_.push_back(std::move(record));
                ++enqueued_;
                // The writer needs waking only to start lingering (it waits for a first CDR
                // without a deadline) and to stop lingering once a batch is full.
                if (queue_.size() == 1 || queue_.size() == config_.maxBatch) {
                    wake_.notify_one();
                }
                return enqueued_;
            }
            why = stopping_ ? "CDR writer stopped" : "CDR queue full";
        }
        spoolDirectly(std::move(record), why);
        return 0;
    }

    std::uint64_t deliveredCount() const override
    {
        std::lock_guard lock(mutex_);
        return delivered_;
    }

    void flush() override
    {
        std::unique_lock lock(mutex_);
        const std::uint64_t target = enqueued_;
        flushTarget_ = std::max(flushTarget_, target);
        wake_.notify_one();
        progress_.wait(lock, [&] { return delivered_ >= target; });
    }

    void stop() override
    {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            wake_.notify_one();
        }
        std::lock_guard joinLock(joinMutex_);
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    std::size_t queueDepth() const override
    {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }
    std::uint64_t spoolBytes() const override { return spool_.pendingBytes(); }

private:
    void run();
    void deliver(std::vector<CdrRecord>& batch, bool trySink);
    void retryHeld();
    void replaySpool();
    void sinkFailed(const char* what);
    void markDelivered(std::size_t count);
    void spoolDirectly(CdrRecord&& record, const char* why);

    std::unique_ptr<CdrSink> sink_;
    CdrWriterConfig config_;
    Spool spool_;
    common::SystemClock clock_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;      // the writer thread waits here
    std::condition_variable progress_;  // flush() waits here
    std::deque<CdrRecord> queue_;
    std::uint64_t enqueued_ = 0;   // CDRs ever put in queue_
    std::uint64_t delivered_ = 0;  // of those, now in the sink or the spool
    std::uint64_t flushTarget_ = 0;  // flush() waits for delivered_ to reach it: no lingering
    common::MonoTime queuedSince_{};  // when queue_ last became non-empty
    bool stopping_ = false;
    bool spoolPending_ = false;

    // Writer thread only.
    std::vector<CdrRecord> held_;
    bool degraded_ = false;
    common::Millis backoff_{0};
    common::MonoTime nextRetry_{};

    std::mutex joinMutex_;
    std::thread thread_;
};

void CdrWriterImpl::run()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        const bool retryDue = !degraded_ || clock_.monotonicNow() >= nextRetry_;
        if (!held_.empty()) {
            // Neither sink nor spool took these; nothing else moves until one does. Keeps
            // trying while stopping: exiting would drop CDRs held only in memory.
            if (retryDue) {
                lock.unlock();
                retryHeld();
                lock.lock();
            } else {
                wake_.wait_for(lock, nextRetry_ - clock_.monotonicNow());
            }
            continue;
        }
        // While stopping, a failing sink is not retried: the spool keeps CDRs for the next run.
        if (spoolPending_ && (!degraded_ || (retryDue && !stopping_))) {
            spoolPending_ = false;
            lock.unlock();
            replaySpool();
            lock.lock();
            continue;
        }
        if (!queue_.empty()) {
            const auto writeAt = queuedSince_ + config_.linger;
            if (queue_.size() < config_.maxBatch && !stopping_ && delivered_ >= flushTarget_ &&
                clock_.monotonicNow() < writeAt) {
                wake_.wait_for(lock, writeAt - clock_.monotonicNow());
                continue;
            }
            // What stays queued (more than maxBatch were) keeps the older queuedSince_: it is
            // written at once.
            const auto n =
                static_cast<std::ptrdiff_t>(std::min(queue_.size(), config_.maxBatch));
            std::vector<CdrRecord> batch(std::make_move_iterator(queue_.begin()),
                                         std::make_move_iterator(queue_.begin() + n));
            queue_.erase(queue_.begin(), queue_.begin() + n);
            lock.unlock();
            deliver(batch, !degraded_);
            lock.lock();
            continue;
        }
        if (stopping_) {
            return;
        }
        if (spoolPending_) {
            wake_.wait_for(lock, nextRetry_ - clock_.monotonicNow());
        } else {
            wake_.wait(lock);
        }
    }
}

void CdrWriterImpl::deliver(std::vector<CdrRecord>& batch, bool trySink)
{
    if (trySink) {
        try {
            // A refused CDR that cannot be kept in the dead-letter file fails the whole batch:
            // it is spooled, and the sink ignores the stored ones when it is replayed.
            spool_.reject(sink_->write(batch));
            degraded_ = false;
            markDelivered(batch.size());
            return;
        } catch (const std::exception& e) {
            sinkFailed(e.what());
        } catch (...) {
            sinkFailed("unknown error");
        }
    }
    try {
        spool_.append(batch);
        {
            std::lock_guard lock(mutex_);
            spoolPending_ = true;
        }
        markDelivered(batch.size());
    } catch (const std::exception& e) {
        cdrLog()->error("cannot spool {} CDRs to {} ({}); keeping them in memory and retrying",
                        batch.size(), spool_.spoolPath(), e.what());
        held_ = std::move(batch);
    }
}

void CdrWriterImpl::retryHeld()
{
    std::vector<CdrRecord> batch = std::move(held_);
    held_.clear();
    deliver(batch, true);
    if (!held_.empty()) {
        // Both failed again; deliver() moved the sink's backoff forward.
        cdrLog()->warn("{} CDRs still held in memory; next try in {} ms", held_.size(),
                       backoff_.count());
    }
}

void CdrWriterImpl::replaySpool()
{
    try {
        const std::size_t n = spool_.replay(*sink_, config_.maxBatch);
        if (n > 0 || degraded_) {
            cdrLog()->info("CDR sink is working; replayed {} spooled CDRs", n);
        }
        degraded_ = false;
        backoff_ = common::Millis(0);
        return;
    } catch (const std::exception& e) {
        sinkFailed(e.what());
    } catch (...) {
        sinkFailed("unknown error");
    }
    std::lock_guard lock(mutex_);
    spoolPending_ = true;
}

void CdrWriterImpl::sinkFailed(const char* what)
{
    backoff_ = degraded_ ? std::min(backoff_ * 2, config_.retryMax) : config_.retryInitial;
    degraded_ = true;
    nextRetry_ = clock_.monotonicNow() + backoff_;
    cdrLog()->warn("CDR sink failed ({}); spooling to {}, next try in {} ms", what,
                   spool_.spoolPath(), backoff_.count());
}

void CdrWriterImpl::markDelivered(std::size_t count)
{
    std::lock_guard lock(mutex_);
    delivered_ += count;
    progress_.notify_all();
}

void CdrWriterImpl::spoolDirectly(CdrRecord&& record, const char* why)
{
    std::vector<CdrRecord> one;
    one.push_back(std::move(record));
    try {
        spool_.append(one);
    } catch (const std::exception& e) {
        cdrLog()->error("CDR {} LOST: {} and the spool failed ({})", one.front().callId, why,
                        e.what());
        return;
    }
    cdrLog()->warn("{}: spooled CDR {} directly to {}", why, one.front().callId,
                   spool_.spoolPath());
    std::lock_guard lock(mutex_);
    spoolPending_ = true;
    wake_.notify_one();
}

}  // namespace

std::unique_ptr<CdrWriter> makeCdrWriter(std::unique_ptr<CdrSink> sink, CdrWriterConfig config)
{
    return std::make_unique<CdrWriterImpl>(std::move(sink), std::move(config));
}

}  // namespace ss::cdr
