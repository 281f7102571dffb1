// SPDX-License-Identifier: Apache-2.0
// The crash journal (issue 5 §3): what a restarted switch bills for calls a crash cut off.
#include "cdr/call_journal.h"
#include "tests/support/cdr_records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using ss::cdr::CallJournal;
using ss::cdr::CdrRecord;
using ss::cdr::EndDirection;
using ss::cdr::testing::makeRecord;
using ss::cdr::testing::readLines;
using ss::cdr::testing::sameRecord;
using ss::cdr::testing::TempDir;

namespace {

/// The CDR of call `n` as it looks while ringing (no answer, no end yet).
CdrRecord ringing(int n)
{
    CdrRecord r = makeRecord(n);
    r.answerAt.reset();
    r.attempts.resize(1);
    return r;
}

CdrRecord up(int n)
{
    CdrRecord r = makeRecord(n);
    return r;
}

std::uint64_t nothingDelivered() { return 0; }

}  // namespace

TEST(CallJournal, ACallUpAtTheCrashIsBilledToItsLastHeartbeat)
{
    TempDir dir;
    const CdrRecord call = up(1);
    {
        CallJournal journal(dir.path(), nothingDelivered);
        journal.started(ringing(1));
        journal.answered(call);
        journal.beat(*call.answerAt + 2s);
        journal.beat(*call.answerAt + 4s);
        // killed here: no end line
    }
    const auto cdrs = CallJournal::recover(dir.path());
    ASSERT_EQ(cdrs.size(), 1u);
    const auto& r = cdrs[0];
    EXPECT_EQ(r.callId, call.callId);
    EXPECT_EQ(r.endDirection, EndDirection::Switch);
    EXPECT_EQ(r.endReason, "switch_restart");
    EXPECT_EQ(r.disposition, "send_bye");
    EXPECT_EQ(r.sipCode, 200);
    EXPECT_EQ(r.endAt, *call.answerAt + 4s);
    EXPECT_EQ(r.holdMs(), 4000);
    EXPECT_EQ(r.attempts.size(), call.attempts.size());  // the chain as journalled at answer
}

TEST(CallJournal, AnUnansweredCallIsNeverBilledAndEndsNoEarlierThanItsSetup)
{
    TempDir dir;
    const CdrRecord call = ringing(2);
    {
        CallJournal journal(dir.path(), nothingDelivered);
        journal.beat(call.setupAt - 1s);  // before the call existed
        journal.started(call);
    }
    const auto cdrs = CallJournal::recover(dir.path());
    ASSERT_EQ(cdrs.size(), 1u);
    EXPECT_FALSE(cdrs[0].answerAt.has_value());
    EXPECT_EQ(cdrs[0].holdMs(), 0);
    EXPECT_EQ(cdrs[0].disposition, "send_refuse");
    EXPECT_EQ(cdrs[0].endAt, *call.ringAt);  // the last instant it was known to be ringing
    EXPECT_EQ(cdrs[0].endReason, "switch_restart");
}

TEST(CallJournal, AnEndedCallComesBackExactlyAsItEnded)
{
    TempDir dir;
    const CdrRecord final = makeRecord(3);
    {
        CallJournal journal(dir.path(), nothingDelivered);
        journal.started(ringing(3));
        journal.answered(up(3));
        journal.ended(final, [] { return std::uint64_t{7}; });
        journal.beat(final.endAt + 10s);  // no longer in progress: does not move its end
    }
    const auto cdrs = CallJournal::recover(dir.path());
    ASSERT_EQ(cdrs.size(), 1u);
    EXPECT_TRUE(sameRecord(cdrs[0], final));
}

TEST(CallJournal, ATornLastLineIsSkippedAndNothingBeforeItIsLost)
{
    TempDir dir;
    {
        CallJournal journal(dir.path(), nothingDelivered);
        journal.started(ringing(4));
        journal.ended(makeRecord(5), [] { return std::uint64_t{1}; });
    }
    {
        std::ofstream out(dir.path() + "/calls.journal", std::ios::app);
        out << R"({"op":"start","cdr":{"v":1,"node":"n)";  // power cut mid-line
    }
    const auto cdrs = CallJournal::recover(dir.path());
    ASSERT_EQ(cdrs.size(), 2u);
    EXPECT_EQ(cdrs[0].callId, "call-4");  // in order of first appearance
    EXPECT_EQ(cdrs[0].endReason, "switch_restart");
    EXPECT_EQ(cdrs[1].callId, "call-5");
}

TEST(CallJournal, ANewJournalStartsEmptyAndNoJournalRecoversNothing)
{
    TempDir dir;
    EXPECT_TRUE(CallJournal::recover(dir.path()).empty());
    {
        CallJournal journal(dir.path(), nothingDelivered);
        journal.started(ringing(1));
    }
    CallJournal fresh(dir.path(), nothingDelivered);
    EXPECT_TRUE(readLines(fresh.path()).empty());
    EXPECT_TRUE(CallJournal::recover(dir.path()).empty());
}

TEST(CallJournal, CompactionKeepsCallsInProgressAndUndeliveredCdrsOnly)
{
    TempDir dir;
    std::uint64_t delivered = 0;
    const CdrRecord longCall = up(100);
    {
        // Compact as soon as the file passes 4 KB.
        CallJournal journal(dir.path(), [&] { return delivered; }, 4096);
        journal.started(ringing(100));
        journal.answered(longCall);
        for (int n = 1; n <= 40; ++n) {
            journal.started(ringing(n));
            journal.ended(makeRecord(n), [n] { return static_cast<std::uint64_t>(n); });
            delivered = static_cast<std::uint64_t>(n) - 2;  // the writer lags two behind
        }
        journal.beat(*longCall.answerAt + 30s);
        EXPECT_EQ(journal.inProgress(), 1u);
        // The sync thread compacts, off the caller's thread, when it next wakes: how often it
        // has by now depends on scheduling. Wait (bounded) until it has at least once, which
        // drops call-1 (delivered long ago) from the file.
        const auto holdsCall1 = [&] {
            for (const auto& line : readLines(journal.path())) {
                if (line.find("\"call-1\"") != std::string::npos) {
                    return true;
                }
            }
            return false;
        };
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (holdsCall1() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(10ms);
        }
        EXPECT_FALSE(holdsCall1());
    }
    const auto cdrs = CallJournal::recover(dir.path());
    // The call still up, the CDRs the writer had not delivered (39 and 40), and the ones
    // journalled since the last compaction, each once; the early, delivered ones are gone.
    std::vector<std::string> ids;
    for (const auto& r : cdrs) {
        ids.push_back(r.callId + "/" + r.endReason);
    }
    const auto has = [&](const std::string& id) {
        return std::count(ids.begin(), ids.end(), id) == 1;
    };
    const std::string ended = "/" + makeRecord(1).endReason;
    EXPECT_TRUE(has("call-100/switch_restart")) << ::testing::PrintToString(ids);
    EXPECT_TRUE(has("call-39" + ended)) << ::testing::PrintToString(ids);
    EXPECT_TRUE(has("call-40" + ended)) << ::testing::PrintToString(ids);
    EXPECT_FALSE(has("call-1" + ended)) << ::testing::PrintToString(ids);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
    for (const auto& r : cdrs) {
        if (r.callId == "call-100") {
            EXPECT_EQ(r.endAt, *longCall.answerAt + 30s);
        }
    }
}
