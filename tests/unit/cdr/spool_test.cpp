// SPDX-License-Identifier: Apache-2.0
#include "cdr/spool.h"
#include "tests/support/cdr_records.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace ss::cdr {
namespace {

using testing::makeRecord;
using testing::readLines;
using testing::TempDir;

// Takes every record except the one with call id `refuse`, which it refuses for good.
class CollectingSink final : public CdrSink {
public:
    std::vector<RejectedCdr> write(const std::vector<CdrRecord>& batch) override
    {
        std::vector<RejectedCdr> rejected;
        for (const auto& r : batch) {
            if (r.callId == refuse) {
                rejected.push_back({r, "bad disposition"});
            } else {
                records.push_back(r);
            }
        }
        return rejected;
    }
    std::vector<CdrRecord> records;
    std::string refuse;
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

// encodeSpoolLine writes the line directly (it runs three times per call on the sip-loop); it
// must give exactly the text of the json tree it replaced, whatever is in the strings.
TEST(SpoolLine, TheDirectEncodingIsTheTreesTextByteForByte)
{
    const std::vector<std::string> strings = {
        "", "4930123", "a/b@c", "quote\"d", "back\\slash", "tab\tnew\nline\r", "\x01\x1f\x7f",
        "Gr\xC3\xBC\xC3\x9F" "e", "49\xff\xfe", "\xE2\x82", "emoji \xF0\x9F\x93\x9E", "</script>"};
    int n = 0;
    for (const auto& text : strings) {
        auto r = makeRecord(++n);
        r.caller = text;
        r.callId = text + "@x";
        r.sipReason = text;
        r.node = text;
        if (n % 2 == 0) {
            r.ringAt.reset();
            r.answerAt.reset();
        }
        if (n % 3 == 0) {
            r.attempts.clear();
        } else {
            r.attempts.at(0).gateway = text;
            r.attempts.at(0).transport = text;
        }
        r.q850Cause = -n;
        EXPECT_EQ(encodeSpoolLine(r), encodeSpoolLineViaTree(r)) << n;
    }
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

TEST(Spool, RejectAppendsSpoolLinesWithTheReasonToTheDeadLetterFile)
{
    TempDir dir;
    Spool spool(dir.path());
    spool.reject({{makeRecord(1), "refused: value too long"}});
    spool.reject({});
    spool.reject({{makeRecord(2), "bad disposition"}});

    EXPECT_EQ(spool.rejectedPath(), dir.path() + "/rejected.jsonl");
    const auto lines = readLines(spool.rejectedPath());
    ASSERT_EQ(lines.size(), 2u);
    // The spool format, so a repaired line can be fed in again as it is.
    EXPECT_TRUE(testing::sameRecord(decodeSpoolLine(lines[0]), makeRecord(1)));
    EXPECT_EQ(nlohmann::json::parse(lines[0]).at("rejected"), "refused: value too long");
    EXPECT_EQ(decodeSpoolLine(lines[1]).callId, "call-2");
    EXPECT_FALSE(spool.hasPending());  // never replayed automatically
}

TEST(Spool, ReplaySendsWhatTheSinkRefusesToTheDeadLetterFile)
{
    TempDir dir;
    Spool spool(dir.path());
    spool.append({makeRecord(1), makeRecord(2), makeRecord(3)});

    CollectingSink sink;
    sink.refuse = "call-2";
    EXPECT_EQ(spool.replay(sink, 2), 3u);
    ASSERT_EQ(sink.records.size(), 2u);
    EXPECT_EQ(sink.records[1].callId, "call-3");
    EXPECT_FALSE(spool.hasPending());
    const auto rejected = readLines(spool.rejectedPath());
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(decodeSpoolLine(rejected[0]).callId, "call-2");
}

TEST(Spool, ReplayKeepsTheBatchSpooledWhenTheDeadLetterFileCannotBeWritten)
{
    TempDir dir;
    Spool spool(dir.path());
    spool.append({makeRecord(1), makeRecord(2)});
    std::filesystem::create_directory(spool.rejectedPath());  // open() fails: EISDIR

    CollectingSink sink;
    sink.refuse = "call-2";
    EXPECT_THROW(spool.replay(sink, 10), std::system_error);
    EXPECT_TRUE(spool.hasPending());  // call-2 is not lost (call-1 is sent again: duplicates
                                      // are the sink's to ignore)
    std::filesystem::remove(spool.rejectedPath());
    EXPECT_EQ(spool.replay(sink, 10), 2u);
    EXPECT_FALSE(spool.hasPending());
    EXPECT_EQ(readLines(spool.rejectedPath()).size(), 1u);
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
