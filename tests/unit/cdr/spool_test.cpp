// SPDX-License-Identifier: Apache-2.0
#include "cdr/spool.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

namespace ss::cdr {
namespace {

using testing::makeRecord;
using testing::readLines;
using testing::TempDir;

class CollectingSink final : public CdrSink {
public:
    void write(const std::vector<CdrRecord>& batch) override
    {
        records.insert(records.end(), batch.begin(), batch.end());
    }
    std::vector<CdrRecord> records;
};

TEST(SpoolLine, RoundTripsEveryFieldAtFullClockPrecision)
{
    const auto original = makeRecord(42);
    const auto line = encodeSpoolLine(original);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_TRUE(testing::sameRecord(decodeSpoolLine(line), original));
}

TEST(SpoolLine, KeepsAbsentTimesAbsent)
{
    auto original = makeRecord(1);
    original.ringAt.reset();
    original.answerAt.reset();
    original.attempts.clear();
    const auto decoded = decodeSpoolLine(encodeSpoolLine(original));
    EXPECT_FALSE(decoded.ringAt.has_value());
    EXPECT_FALSE(decoded.answerAt.has_value());
    EXPECT_TRUE(decoded.attempts.empty());
}

TEST(SpoolLine, ReplacesBytesThatAreNotUtf8InsteadOfFailing)
{
    auto record = makeRecord(1);
    record.caller = "49\xff\xfe";
    const auto decoded = decodeSpoolLine(encodeSpoolLine(record));
    EXPECT_EQ(decoded.caller, "49\xEF\xBF\xBD\xEF\xBF\xBD");  // two U+FFFD
}

TEST(SpoolLine, RefusesIncompleteLines)
{
    const auto line = encodeSpoolLine(makeRecord(1));
    EXPECT_THROW(decodeSpoolLine(line.substr(0, line.size() - 1)), std::runtime_error);
    EXPECT_THROW(decodeSpoolLine("{}"), std::runtime_error);
    EXPECT_THROW(decodeSpoolLine("{\"v\":2}"), std::runtime_error);
}

TEST(Spool, AppendAfterAPartialLineStartsOnAFreshLine)
{
    TempDir dir;
    const auto partial = encodeSpoolLine(makeRecord(1)).substr(0, 40);
    std::ofstream(dir.path() + "/cdr.spool") << partial;  // a crash mid-append
    Spool spool(dir.path());
    spool.append({makeRecord(2)});

    const auto lines = readLines(dir.path() + "/cdr.spool");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], partial);
    EXPECT_EQ(decodeSpoolLine(lines[1]).callId, "call-2");
}

TEST(Spool, ReplayWritesOldestFirstAndEmptiesTheSpool)
{
    TempDir dir;
    Spool spool(dir.path());
    EXPECT_FALSE(spool.hasPending());
    spool.append({makeRecord(1), makeRecord(2)});
    spool.append({makeRecord(3)});
    EXPECT_TRUE(spool.hasPending());

    CollectingSink sink;
    EXPECT_EQ(spool.replay(sink, 2), 3u);
    ASSERT_EQ(sink.records.size(), 3u);
    EXPECT_EQ(sink.records[0].callId, "call-1");
    EXPECT_EQ(sink.records[2].callId, "call-3");
    EXPECT_FALSE(spool.hasPending());
}

TEST(Spool, CreatesAMissingDirectory)
{
    TempDir dir;
    Spool spool(dir.path() + "/a/b");
    spool.append({makeRecord(1)});
    EXPECT_EQ(readLines(dir.path() + "/a/b/cdr.spool").size(), 1u);
}

}  // namespace
}  // namespace ss::cdr
