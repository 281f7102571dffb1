// SPDX-License-Identifier: Apache-2.0
// The router on a real AdminStore (PostgreSQL via SS_TEST_PG_URL): the same answers as swctl.

#include "cdr/admin_store.h"
#include "cdr/store.h"
#include "tests/pg/pg_fixture.h"
#include "tests/web/fake_backend.h"
#include "web/admin_api.h"
#include "web/api.h"

namespace ss::web {
namespace {

using namespace ss::web::testing;
namespace http = boost::beast::http;
using http::status;
using http::verb;

class WebPg : public pgtest::PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (IsSkipped() || HasFailure()) {
            return;
        }
        migrateSchema();
        ApiBackend backend;
        backend.admin = std::make_shared<AdminStoreApi>(dsn_);
        api_ = std::make_unique<Api>(backend, kToken, clock_);
    }

    Response call(verb method, const std::string& target, const std::string& body = "")
    {
        return api_->handle(makeRequest(method, target, kToken, body));
    }

    void writeCdrs()
    {
        std::vector<cdr::CdrRecord> batch;
        for (int n = 1; n <= 6; ++n) {
            auto r = pgtest::makeRecord(n);
            r.caller = "4930" + std::to_string(n);
            r.termGateway = n <= 3 ? "term1" : "term2";
            if (n >= 5) {
                r.answerAt.reset();
                r.endDirection = cdr::EndDirection::Switch;
                r.endReason = "all_gateways_failed";
                r.disposition = "send_refuse";
                r.sipCode = 503;
            }
            batch.push_back(r);
        }
        cdr::makePgCdrSink(dsn_)->write(batch);
    }

    Json swctlJson(std::vector<std::string> args)
    {
        args.push_back("--json");
        const auto r = pgtest::swctl(dsn_, args);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return Json::parse(r.out, nullptr, false);
    }

    common::ManualClock clock_;
    std::unique_ptr<Api> api_;
};

TEST_F(WebPg, ParamsPutGetAndDeleteGoThroughTheDatabase)
{
    auto res = call(verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE", R"({"value":"30"})");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    EXPECT_EQ(scalar("SELECT value FROM param WHERE name = 'SS_SIP_TIMEOUT_INVITE'"), "30");
    const auto one = bodyJson(call(verb::get, "/api/v1/params/SS_SIP_TIMEOUT_INVITE"));
    EXPECT_EQ(one["value"], "30");
    EXPECT_EQ(one["differs"], true);
    // The same view as swctl param get --json, plus `differs`.
    auto viaSwctl = swctlJson({"param", "get", "SS_SIP_TIMEOUT_INVITE"});
    auto mine = one;
    mine.erase("differs");
    EXPECT_EQ(mine, viaSwctl);

    res = call(verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE", R"({"value":"0"})");
    EXPECT_EQ(res.result(), status::bad_request);
    EXPECT_EQ(scalar("SELECT value FROM param WHERE name = 'SS_SIP_TIMEOUT_INVITE'"), "30");

    res = call(verb::delete_, "/api/v1/params/SS_SIP_TIMEOUT_INVITE");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    EXPECT_EQ(bodyJson(res)["removed"], "30");
    EXPECT_EQ(scalar("SELECT count(*) FROM param WHERE name = 'SS_SIP_TIMEOUT_INVITE'"), "0");

    const auto list = bodyJson(call(verb::get, "/api/v1/params"));
    EXPECT_EQ(list["params"].size(), swctlJson({"param", "list"}).size());
}

TEST_F(WebPg, CdrQueryShowAndStatsAnswerAsSwctlDoes)
{
    writeCdrs();
    const auto query = bodyJson(call(verb::get, "/api/v1/cdrs?caller=4930&limit=4"));
    EXPECT_EQ(query["cdrs"].size(), 4u);
    EXPECT_EQ(query["cdrs"], swctlJson({"cdr", "query", "--caller", "4930", "--limit", "4"}));

    const auto failed = bodyJson(call(verb::get, "/api/v1/cdrs?end_direction=switch&code=503"));
    EXPECT_EQ(failed["cdrs"].size(), 2u);
    EXPECT_EQ(failed["cdrs"],
              swctlJson({"cdr", "query", "--end-direction", "switch", "--code", "503"}));

    const auto show = bodyJson(call(verb::get, "/api/v1/cdrs/call-2"));
    EXPECT_EQ(show["cdrs"], swctlJson({"cdr", "show", "call-2"}));
    EXPECT_EQ(show["cdrs"][0]["attempt_list"].size(), 2u);
    EXPECT_EQ(call(verb::get, "/api/v1/cdrs/call-99").result(), status::not_found);

    for (const auto& by : {"gateway", "code", "reason", "end-direction"}) {
        const auto stats = bodyJson(
            call(verb::get, std::string("/api/v1/cdr-stats?since=2000-01-01&by=") + by));
        EXPECT_EQ(stats, swctlJson({"cdr", "stats", "--since", "2000-01-01", "--by", by}))
            << by;
    }
}

TEST_F(WebPg, EnableAndDisableAGateway)
{
    common::GatewayConfig gw;
    gw.name = "term1";
    gw.host = "10.0.1.1";
    cdr::AdminStore store(dsn_);
    store.addGateway(gw);
    auto res = call(verb::post, "/api/v1/gateways/term1/disable");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    EXPECT_FALSE(store.findGateway("term1")->enabled);
    res = call(verb::post, "/api/v1/gateways/term1/enable");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    EXPECT_TRUE(store.findGateway("term1")->enabled);
    EXPECT_EQ(call(verb::post, "/api/v1/gateways/ghost/disable").result(), status::not_found);
}

TEST_F(WebPg, UnreachableDatabaseIs503AndRecovers)
{
    ApiBackend backend;
    backend.admin = std::make_shared<AdminStoreApi>(pgtest::kUnreachableDsn);
    Api down(backend, kToken, clock_);
    for (const auto& target : {"/api/v1/params", "/api/v1/cdrs", "/api/v1/cdr-stats",
                               "/api/v1/cdrs/x"}) {
        const auto res = down.handle(makeRequest(verb::get, target));
        EXPECT_EQ(res.result(), status::service_unavailable) << target << res.body();
        EXPECT_TRUE(bodyJson(res).contains("error"));
    }
    // Validation comes first: a bad value is 400 even with the database down.
    EXPECT_EQ(down.handle(makeRequest(verb::get, "/api/v1/cdrs?limit=0")).result(),
              status::bad_request);
}

}  // namespace
}  // namespace ss::web
