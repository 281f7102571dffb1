// SPDX-License-Identifier: Apache-2.0
// The CDR writer with an in-memory sink: batching, flush, spool on failure, replay.
// No sleeps: every wait is on a condition, with a generous timeout.

#include "cdr/cdr_writer.h"
#include "cdr/spool.h"
#include "tests/support/cdr_records.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace ss::cdr {
namespace {

using namespace std::chrono_literals;
using testing::makeRecord;
using testing::readLines;
using testing::TempDir;

constexpr auto kTimeout = 20s;

// What the fake sink saw; shared with the test because the writer owns the sink.
struct SinkState {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<CdrRecord> stored;     // every record of every successful write, in order
    std::vector<std::size_t> batches;  // sizes of successful writes
    int calls = 0;                     // write() calls, failed ones included
    bool failing = false;              // every write throws
    int failCall = 0;                  // this call (1-based) throws
    bool gateClosed = false;           // write() waits until the gate opens
    bool inWrite = false;
    std::string refuse;                  // this call id is refused for good
    std::vector<std::string> refused;    // call ids refused, each time it was sent

    template <class Pred>
    bool waitUntil(Pred pred)
    {
        return waitUntilFor(kTimeout, pred);
    }
    template <class Pred>
    bool waitUntilFor(std::chrono::milliseconds timeout, Pred pred)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, pred);
    }
    void set(bool SinkState::*flag, bool value)
    {
        std::lock_guard lock(mutex);
        this->*flag = value;
        changed.notify_all();
    }
    std::multiset<std::string> storedIds()
    {
        std::lock_guard lock(mutex);
        std::multiset<std::string> ids;
        for (const auto& r : stored) {
            ids.insert(r.callId);
        }
        return ids;
    }
};

class FakeSink final : public CdrSink {
public:
    explicit FakeSink(std::shared_ptr<SinkState> state) : state_(std::move(state)) {}

    std::vector<RejectedCdr> write(const std::vector<CdrRecord>& batch) override
    {
        std::unique_lock lock(state_->mutex);
        ++state_->calls;
        state_->inWrite = true;
        state_->changed.notify_all();
        state_->changed.wait(lock, [&] { return !state_->gateClosed; });
        state_->inWrite = false;
        if (state_->failing || state_->calls == state_->failCall) {
            state_->changed.notify_all();
            throw std::runtime_error("database down");
        }
        std::vector<RejectedCdr> rejected;
        for (const auto& r : batch) {
            if (r.callId == state_->refuse) {
                rejected.push_back({r, "new row violates check constraint"});
                state_->refused.push_back(r.callId);
            } else {
                state_->stored.push_back(r);
            }
        }
        state_->batches.push_back(batch.size());
        state_->changed.notify_all();
        return rejected;
    }

private:
    std::shared_ptr<SinkState> state_;
};

std::multiset<std::string> idsOf(int from, int to)
{
    std::multiset<std::string> ids;
    for (int n = from; n <= to; ++n) {
        ids.insert("call-" + std::to_string(n));
    }
    return ids;
}

class CdrWriterTest : public ::testing::Test {
protected:
    std::unique_ptr<CdrWriter> makeWriter(std::size_t maxBatch = 1000,
                                          std::size_t queueCapacity = 200000)
    {
        CdrWriterConfig config;
        config.spoolDir = dir_.path();
        config.maxBatch = maxBatch;
        config.queueCapacity = queueCapacity;
        config.retryInitial = retryInitial_;
        config.retryMax = 50ms;
        config.linger = linger_;
        return makeCdrWriter(std::make_unique<FakeSink>(sink_), config);
    }
    // Only when the writer is stopped or cannot be replaying.
    std::size_t spooledLines() const
    {
        return readLines(dir_.path() + "/cdr.spool").size() +
               readLines(dir_.path() + "/cdr.spool.replay").size();
    }
    // Safe while the writer retries a failing replay: cdr.spool is renamed to cdr.spool.replay
    // only when no replay file exists, so reading cdr.spool first may see a CDR twice, never
    // miss one; the set hides the double.
    std::set<std::string> spooledIds() const
    {
        std::set<std::string> ids;
        for (const char* file : {"/cdr.spool", "/cdr.spool.replay"}) {
            for (const auto& line : readLines(dir_.path() + file)) {
                ids.insert(decodeSpoolLine(line).callId);
            }
        }
        return ids;
    }

    TempDir dir_;
    std::shared_ptr<SinkState> sink_ = std::make_shared<SinkState>();
    common::Millis retryInitial_{5};
    common::Millis linger_{20};
};

TEST_F(CdrWriterTest, DeliversEveryCdrFromManyThreadsExactlyOnceInBoundedBatches)
{
    auto writer = makeWriter(64);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&writer, t] {
            for (int i = 1; i <= 1000; ++i) {
                writer->submit(makeRecord(t * 1000 + i));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    writer->flush();

    EXPECT_EQ(sink_->storedIds(), idsOf(1, 4000));
    for (const auto size : sink_->batches) {
        EXPECT_LE(size, 64u);
    }
    EXPECT_EQ(spooledLines(), 0u);
}

TEST_F(CdrWriterTest, StoresRecordsUnchanged)
{
    auto writer = makeWriter();
    writer->submit(makeRecord(7));
    writer->flush();
    ASSERT_EQ(sink_->stored.size(), 1u);
    EXPECT_TRUE(testing::sameRecord(sink_->stored[0], makeRecord(7)));
}

TEST_F(CdrWriterTest, FlushReturnsOnlyOnceEarlierCdrsAreInTheSink)
{
    auto writer = makeWriter();
    sink_->set(&SinkState::gateClosed, true);
    writer->submit(makeRecord(1));
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->inWrite; }));

    auto flushed = std::async(std::launch::async, [&] { writer->flush(); });
    // The sink is still inside write(), so a correct flush cannot return however long we
    // look; the bounded look only gives a broken flush time to show itself.
    EXPECT_EQ(flushed.wait_for(200ms), std::future_status::timeout);
    sink_->set(&SinkState::gateClosed, false);
    flushed.get();
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 1));

    for (int n = 2; n <= 500; ++n) {
        writer->submit(makeRecord(n));
    }
    writer->flush();
    // No waiting here: flush() itself guarantees it.
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 500));
}

TEST_F(CdrWriterTest, CdrsArrivingWithinTheLingerAreWrittenAsOneBatch)
{
    linger_ = std::chrono::hours(1);
    auto writer = makeWriter();
    for (int n = 1; n <= 5; ++n) {
        writer->submit(makeRecord(n));
    }
    // Lingering, a correct writer writes nothing however long we look; the bounded look only
    // gives a broken one time to show itself.
    EXPECT_FALSE(sink_->waitUntilFor(200ms, [&] { return sink_->calls > 0; }));
    writer->flush();  // flush() does not wait for the linger
    EXPECT_EQ(sink_->batches, std::vector<std::size_t>{5});
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 5));
}

TEST_F(CdrWriterTest, AFullBatchIsWrittenWithoutWaitingForTheLinger)
{
    linger_ = std::chrono::hours(1);
    auto writer = makeWriter(4);
    for (int n = 1; n <= 4; ++n) {
        writer->submit(makeRecord(n));
    }
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->batches.size() == 1; }));
    EXPECT_EQ(sink_->batches, std::vector<std::size_t>{4});
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 4));

    // The next CDR starts a batch of its own, which lingers: a correct writer writes nothing
    // however long we look.
    writer->submit(makeRecord(5));
    EXPECT_FALSE(sink_->waitUntilFor(200ms, [&] { return sink_->batches.size() > 1; }));
}

TEST_F(CdrWriterTest, ALoneCdrIsWrittenOnceItsLingerIsOver)
{
    linger_ = 300ms;
    auto writer = makeWriter();
    const auto submitted = std::chrono::steady_clock::now();
    writer->submit(makeRecord(1));
    // Without flush() or stop().
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->batches.size() == 1; }));
    EXPECT_GE(std::chrono::steady_clock::now() - submitted, linger_);
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 1));
}

TEST_F(CdrWriterTest, StopWritesWhatIsLingering)
{
    linger_ = std::chrono::hours(1);
    auto writer = makeWriter();
    writer->submit(makeRecord(1));
    writer->submit(makeRecord(2));
    writer->stop();
    EXPECT_EQ(sink_->batches, std::vector<std::size_t>{2});
    EXPECT_EQ(spooledLines(), 0u);
}

TEST_F(CdrWriterTest, SpoolsWhileTheSinkFailsAndReplaysOnceItRecovers)
{
    sink_->set(&SinkState::failing, true);
    auto writer = makeWriter();
    for (int n = 1; n <= 10; ++n) {
        writer->submit(makeRecord(n));
    }
    writer->flush();  // returns: the CDRs are durable in the spool
    EXPECT_TRUE(sink_->storedIds().empty());
    const auto expected = idsOf(1, 10);
    EXPECT_EQ(spooledIds(), std::set<std::string>(expected.begin(), expected.end()));

    sink_->set(&SinkState::failing, false);
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->stored.size() >= 10; }));
    writer->stop();  // lets the replay finish removing the spool
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 10));
    EXPECT_EQ(spooledLines(), 0u);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/cdr.spool.replay"));
}

TEST_F(CdrWriterTest, StopWithAFailingSinkLeavesEveryCdrInTheSpoolForTheNextRun)
{
    retryInitial_ = 1h;  // no retry during this run
    sink_->set(&SinkState::failing, true);
    auto writer = makeWriter(8);
    for (int n = 1; n <= 20; ++n) {
        writer->submit(makeRecord(n));
    }
    writer->stop();
    EXPECT_TRUE(sink_->storedIds().empty());
    EXPECT_EQ(spooledLines(), 20u);

    // The next run replays on start.
    sink_ = std::make_shared<SinkState>();
    auto next = makeWriter(8);
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->stored.size() >= 20; }));
    next->stop();
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 20));
    EXPECT_EQ(spooledLines(), 0u);
}

TEST_F(CdrWriterTest, SkipsATruncatedLastSpoolLine)
{
    {
        Spool spool(dir_.path());
        spool.append({makeRecord(1), makeRecord(2)});
    }
    const std::string third = encodeSpoolLine(makeRecord(3));
    std::ofstream(dir_.path() + "/cdr.spool", std::ios::app) << third.substr(0, third.size() / 2);

    auto writer = makeWriter();
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->stored.size() >= 2; }));
    writer->stop();
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 2));
    EXPECT_EQ(spooledLines(), 0u);
}

TEST_F(CdrWriterTest, SkipsACorruptSpoolLineAndKeepsTheOnesAfterIt)
{
    std::ofstream(dir_.path() + "/cdr.spool")
        << encodeSpoolLine(makeRecord(1)) << "\n{\"v\":1,\"node\":garbage}\n"
        << encodeSpoolLine(makeRecord(2)) << "\n";

    auto writer = makeWriter();
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->stored.size() >= 2; }));
    writer->stop();
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 2));
}

TEST_F(CdrWriterTest, ResumesAReplayAfterTheBatchesAlreadyWritten)
{
    {
        Spool spool(dir_.path());
        spool.append({makeRecord(1), makeRecord(2), makeRecord(3), makeRecord(4), makeRecord(5)});
    }
    sink_->failCall = 2;  // the second batch of the start-up replay fails once
    auto writer = makeWriter(2);
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->stored.size() >= 5; }));
    writer->stop();
    // Exactly once even in what the sink was sent: the first batch was not sent again.
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 5));
    EXPECT_EQ(sink_->calls, 4);  // [1,2] ok, [3,4] fails, [3,4] ok, [5] ok
}

TEST_F(CdrWriterTest, SpoolsDirectlyWhenTheQueueIsFullAndDeliversLater)
{
    auto writer = makeWriter(1000, 1);
    sink_->set(&SinkState::gateClosed, true);
    writer->submit(makeRecord(1));
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->inWrite; }));  // writer holds #1
    writer->submit(makeRecord(2));                                   // fills the queue
    writer->submit(makeRecord(3));                                   // overflows
    EXPECT_EQ(writer->queueDepth(), 1u);
    EXPECT_EQ(readLines(dir_.path() + "/cdr.spool").size(), 1u);  // submit() fsync'd it

    sink_->set(&SinkState::gateClosed, false);
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->stored.size() >= 3; }));
    writer->stop();
    EXPECT_EQ(sink_->storedIds(), idsOf(1, 3));
    EXPECT_EQ(spooledLines(), 0u);
}

TEST_F(CdrWriterTest, ARefusedCdrGoesToTheDeadLetterFileOnceAndTheOthersToTheSink)
{
    sink_->refuse = "call-3";
    auto writer = makeWriter(2);
    for (int n = 1; n <= 5; ++n) {
        writer->submit(makeRecord(n));
    }
    writer->flush();
    for (int n = 6; n <= 9; ++n) {
        writer->submit(makeRecord(n));
    }
    writer->stop();

    auto expected = idsOf(1, 9);
    expected.erase("call-3");
    EXPECT_EQ(sink_->storedIds(), expected);
    EXPECT_EQ(sink_->refused, std::vector<std::string>{"call-3"});  // never retried
    EXPECT_EQ(spooledLines(), 0u);
    const auto rejected = readLines(dir_.path() + "/rejected.jsonl");
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_TRUE(testing::sameRecord(decodeSpoolLine(rejected[0]), makeRecord(3)));
}

TEST_F(CdrWriterTest, WhenTheDeadLetterFileFailsTheBatchIsSpooledAndRetried)
{
    sink_->refuse = "call-2";
    const std::string rejectedPath = dir_.path() + "/rejected.jsonl";
    std::filesystem::create_directory(rejectedPath);  // open() fails: EISDIR
    auto writer = makeWriter();
    // call-1 and call-2 must travel in one batch: hold the writer inside the sink with call-3
    // while they are queued, so it cannot take call-1 alone.
    sink_->set(&SinkState::gateClosed, true);
    writer->submit(makeRecord(3));
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->inWrite; }));
    writer->submit(makeRecord(1));
    writer->submit(makeRecord(2));
    sink_->set(&SinkState::gateClosed, false);
    writer->flush();  // durable: the refused CDR had nowhere to go, so the batch is spooled
    EXPECT_EQ(spooledIds(), (std::set<std::string>{"call-1", "call-2"}));

    // Hold the next replay inside the sink, repair the file, let the replay go on: the
    // dead-letter append that follows it works. stop() lets it finish.
    sink_->set(&SinkState::gateClosed, true);
    ASSERT_TRUE(sink_->waitUntil([&] { return sink_->inWrite; }));
    std::filesystem::remove(rejectedPath);
    sink_->set(&SinkState::gateClosed, false);
    writer->stop();
    EXPECT_EQ(spooledLines(), 0u);
    const auto rejected = readLines(rejectedPath);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(decodeSpoolLine(rejected[0]).callId, "call-2");
    // call-1 went to the sink more than once; the real sink ignores the repeats.
    EXPECT_GE(sink_->storedIds().count("call-1"), 2u);
    EXPECT_EQ(sink_->storedIds().count("call-2"), 0u);
    EXPECT_EQ(sink_->storedIds().count("call-3"), 1u);
}

TEST_F(CdrWriterTest, SubmitAfterStopGoesToTheSpool)
{
    auto writer = makeWriter();
    writer->stop();
    writer->submit(makeRecord(1));
    EXPECT_EQ(spooledLines(), 1u);
    writer->stop();  // idempotent
}

}  // namespace
}  // namespace ss::cdr
