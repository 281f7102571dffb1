// SPDX-License-Identifier: Apache-2.0
#include "cdr/admin_store.h"
#include "cdr/store.h"
#include "pg_fixture.h"

namespace ss::pgtest {
namespace {

using namespace std::chrono_literals;

class CdrQuery : public PgTest {
protected:
    // Ten calls, call-1 oldest ... call-10 newest, one second apart.
    void SetUp() override
    {
        PgTest::SetUp();
        if (IsSkipped() || HasFailure()) {
            return;
        }
        migrateSchema();
        std::vector<cdr::CdrRecord> batch;
        for (int n = 1; n <= 10; ++n) {
            auto r = makeRecord(n);
            r.caller = n <= 5 ? "4930" + std::to_string(n) : "4940%" + std::to_string(n);
            r.callee = n % 2 == 0 ? "1555" + std::to_string(n) : "2666" + std::to_string(n);
            r.originGateway = n <= 3 ? "orig1" : "orig2";
            r.termGateway = n == 4 ? "" : (n <= 6 ? "term1" : "term2");
            if (n >= 8) {
                r.answerAt.reset();
                r.endDirection = cdr::EndDirection::Switch;
                r.endReason = "all_gateways_failed";
                r.disposition = "send_refuse";
                r.sipCode = 503;
            }
            batch.push_back(r);
        }
        cdr::makePgCdrSink(dsn_)->write(batch);
        store_.emplace(dsn_);
    }
    std::vector<std::string> ids(const cdr::CdrQuery& q)
    {
        std::vector<std::string> out;
        for (const auto& row : store_->queryCdrs(q)) {
            out.push_back(row.callId);
        }
        return out;
    }
    std::optional<cdr::AdminStore> store_;
};

using Ids = std::vector<std::string>;

TEST_F(CdrQuery, ReturnsNewestFirstUpToTheLimit)
{
    cdr::CdrQuery q;
    q.limit = 3;
    EXPECT_EQ(ids(q), (Ids{"call-10", "call-9", "call-8"}));
}

// Keyset paging (the web page): each page starts after the last row of the one before, in
// (setup_at, id) order, also when calls share a setup time; filters still apply.
TEST_F(CdrQuery, PagesFollowTheCursorWithoutGapsOrRepeats)
{
    auto same = makeRecord(5);  // the same setup time as call-5: ordered by id
    same.callId = "call-5b";
    cdr::makePgCdrSink(dsn_)->write({same});
    cdr::CdrQuery q;
    q.limit = 4;
    Ids all;
    for (int page = 0; page < 5; ++page) {
        const auto rows = store_->queryCdrs(q);
        for (const auto& r : rows) {
            all.push_back(r.callId);
        }
        if (rows.size() < 4) {
            break;
        }
        q.before = cdr::CdrQuery::Cursor{rows.back().setupAt, rows.back().id};
    }
    EXPECT_EQ(all, (Ids{"call-10", "call-9", "call-8", "call-7", "call-6", "call-5b", "call-5",
                        "call-4", "call-3", "call-2", "call-1"}));

    q.callerPrefix = "4930";  // calls 1-5 and 5b
    q.limit = 2;
    q.before.reset();
    const auto first = store_->queryCdrs(q);
    ASSERT_EQ(first.size(), 2u);
    q.before = cdr::CdrQuery::Cursor{first.back().setupAt, first.back().id};
    EXPECT_EQ(ids(q), (Ids{"call-4", "call-3"}));
}

TEST_F(CdrQuery, ReadsBackEveryColumn)
{
    cdr::CdrQuery q;
    q.limit = 1;
    q.endReason = "callee_bye";
    const auto rows = store_->queryCdrs(q);
    ASSERT_EQ(rows.size(), 1u);
    const auto& r = rows[0];
    const auto expected = makeRecord(7);
    EXPECT_GT(r.id, 0);
    EXPECT_EQ(r.callId, "call-7");
    EXPECT_EQ(r.node, "node-a");
    EXPECT_EQ(r.calleeOut, expected.calleeOut);
    EXPECT_EQ(r.originAddr, expected.originAddr);
    EXPECT_EQ(r.termAddr, expected.termAddr);
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(r.setupAt, std::chrono::floor<std::chrono::milliseconds>(expected.setupAt));
    EXPECT_EQ(r.ringAt, std::chrono::floor<std::chrono::milliseconds>(*expected.ringAt));
    EXPECT_EQ(r.answerAt, std::chrono::floor<std::chrono::milliseconds>(*expected.answerAt));
    EXPECT_EQ(r.endAt, std::chrono::floor<std::chrono::milliseconds>(expected.endAt));
    EXPECT_EQ(r.pddMs, 1500);
    EXPECT_EQ(r.holdMs, 60000);
    EXPECT_EQ(r.endDirection, "callee");
    EXPECT_EQ(r.endReason, "callee_bye");
    EXPECT_EQ(r.disposition, "recv_bye");
    EXPECT_EQ(r.sipCode, 200);
    EXPECT_EQ(r.sipReason, "OK");
    EXPECT_EQ(r.q850Cause, 16);
}

TEST_F(CdrQuery, FiltersBySetupTimeSinceInclusiveUntilExclusive)
{
    cdr::CdrQuery q;
    q.since = makeRecord(3).setupAt - 1ms;  // call-3 at .123456 s: included
    q.until = makeRecord(5).setupAt;        // call-5 excluded, even to the millisecond
    EXPECT_EQ(ids(q), (Ids{"call-4", "call-3"}));
}

TEST_F(CdrQuery, MatchesCallerAndCalleeByPrefixTakingWildcardsLiterally)
{
    cdr::CdrQuery q;
    q.callerPrefix = "4930";
    EXPECT_EQ(ids(q).size(), 5u);
    q.callerPrefix = "4940%";
    EXPECT_EQ(ids(q).size(), 5u);
    q.callerPrefix = "49_0";  // not a LIKE pattern
    EXPECT_TRUE(ids(q).empty());
    q.callerPrefix = "";
    q.calleePrefix = "1555";
    EXPECT_EQ(ids(q), (Ids{"call-10", "call-8", "call-6", "call-4", "call-2"}));
}

TEST_F(CdrQuery, MatchesAGatewayOnEitherSide)
{
    cdr::CdrQuery q;
    q.gateway = "orig1";
    EXPECT_EQ(ids(q), (Ids{"call-3", "call-2", "call-1"}));
    q.gateway = "term1";
    EXPECT_EQ(ids(q), (Ids{"call-6", "call-5", "call-3", "call-2", "call-1"}));
}

TEST_F(CdrQuery, FiltersByEndDirectionCodeAndReason)
{
    cdr::CdrQuery q;
    q.endDirection = cdr::EndDirection::Switch;
    EXPECT_EQ(ids(q), (Ids{"call-10", "call-9", "call-8"}));
    q.endDirection.reset();
    q.sipCode = 200;
    EXPECT_EQ(ids(q).size(), 7u);
    q.sipCode.reset();
    q.endReason = "all_gateways_failed";
    q.callerPrefix = "4940";
    q.calleePrefix = "2666";
    EXPECT_EQ(ids(q), (Ids{"call-9"}));
}

}  // namespace
}  // namespace ss::pgtest
