// SPDX-License-Identifier: Apache-2.0
// The router without sockets: fake live state and FakeAdmin.

#include "cdr/errors.h"
#include "cdr/time_format.h"
#include "common/log.h"
#include "common/params.h"
#include "tests/web/fake_backend.h"
#include "web/api.h"
#include "web/ui_files.h"

#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

namespace ss::web {
namespace {

using namespace std::chrono_literals;
using namespace ss::web::testing;
namespace http = boost::beast::http;
using http::status;
using http::verb;

class ApiTest : public ::testing::Test {
protected:
    ApiTest()
    {
        admin_ = std::make_shared<FakeAdmin>();
        backend_.live = [this] {
            if (liveError_) {
                throw std::runtime_error("the sip-loop did not answer within 2 s");
            }
            return live_;
        };
        backend_.admin = admin_;
        live_ = sampleLiveState();
    }

    Response handle(const Request& req)
    {
        Api api(backend_, kToken, clock_);
        return api.handle(req);
    }
    Response get(const std::string& target) { return handle(makeRequest(verb::get, target)); }

    common::ManualClock clock_;
    ApiBackend backend_;
    std::shared_ptr<FakeAdmin> admin_;
    common::LiveState live_;
    bool liveError_ = false;
};

// --- authentication ----------------------------------------------------------------------

TEST_F(ApiTest, PingNeedsNoToken)
{
    const auto res = handle(makeRequest(verb::get, "/api/v1/ping", ""));
    EXPECT_EQ(res.result(), status::ok);
    EXPECT_EQ(bodyJson(res), Json({{"ok", true}}));
    EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
}

TEST_F(ApiTest, EverythingElseWithoutTokenIs401WithChallenge)
{
    for (const auto& target : {"/api/v1/calls", "/api/v1/params", "/metrics", "/api/v1/nope",
                               "/api/v1/status", "/api/v1/cdrs?limit=5"}) {
        const auto res = handle(makeRequest(verb::get, target, ""));
        EXPECT_EQ(res.result(), status::unauthorized) << target;
        EXPECT_EQ(res[http::field::www_authenticate], "Bearer realm=\"softswitch\"") << target;
        EXPECT_TRUE(bodyJson(res).contains("error")) << target;
    }
}

TEST_F(ApiTest, WrongTokenIs401InvalidToken)
{
    const auto res = handle(makeRequest(verb::get, "/api/v1/calls", "test-token-0123456789abcdeX"));
    EXPECT_EQ(res.result(), status::unauthorized);
    EXPECT_NE(std::string(res[http::field::www_authenticate]).find("invalid_token"),
              std::string::npos);
    // A prefix or an extension of the token is wrong too.
    EXPECT_EQ(handle(makeRequest(verb::get, "/api/v1/calls", "test-token-0123456789abcde"))
                  .result(),
              status::unauthorized);
    EXPECT_EQ(handle(makeRequest(verb::get, "/api/v1/calls", std::string(kToken) + "f")).result(),
              status::unauthorized);
}

TEST_F(ApiTest, BearerSchemeIsCaseInsensitive)
{
    auto req = makeRequest(verb::get, "/api/v1/calls", "");
    req.set(http::field::authorization, std::string("bearer  ") + kToken);
    EXPECT_EQ(handle(req).result(), status::ok);
    req.set(http::field::authorization, std::string("Basic ") + kToken);
    EXPECT_EQ(handle(req).result(), status::unauthorized);
}

TEST_F(ApiTest, CookieTokenIsAccepted)
{
    auto req = makeRequest(verb::get, "/api/v1/calls", "");
    req.set(http::field::cookie, std::string("theme=dark; ss_token=") + kToken + "; x=1");
    EXPECT_EQ(handle(req).result(), status::ok);
    req.set(http::field::cookie, "ss_token=wrong-token-0123456789abc");
    EXPECT_EQ(handle(req).result(), status::unauthorized);
}

TEST_F(ApiTest, CookieAuthorisedChangeFromAnotherOriginIsRefused)
{
    admin_->gateways["term1"] = true;
    auto req = makeRequest(verb::post, "/api/v1/gateways/term1/disable", "");
    req.set(http::field::cookie, std::string("ss_token=") + kToken);
    req.set(http::field::origin, "https://evil.example");
    EXPECT_EQ(handle(req).result(), status::forbidden);
    EXPECT_TRUE(admin_->gateways["term1"]);

    req.set(http::field::origin, "http://127.0.0.1:8080");  // our own page
    EXPECT_EQ(handle(req).result(), status::ok);
    EXPECT_FALSE(admin_->gateways["term1"]);

    // A bearer token is never sent by a browser on its own: no origin check.
    auto bearer = makeRequest(verb::post, "/api/v1/gateways/term1/enable");
    bearer.set(http::field::origin, "https://elsewhere.example");
    EXPECT_EQ(handle(bearer).result(), status::ok);
}

// --- the web page and its login ----------------------------------------------------------

class PageTest : public ApiTest {
protected:
    PageTest()
    {
        dir_ = ::testing::TempDir() + "/ss_ui_" + std::to_string(::getpid());
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ + "/index.html") << "<!doctype html><title>softswitch</title>";
        std::ofstream(dir_ + "/app.js") << "console.log(1);";
        std::ofstream(dir_ + "/.secret") << "no";
        backend_.uiDir = dir_;
    }
    ~PageTest() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

TEST_F(PageTest, PageIsServedWithoutTokenUnderAStrictPolicy)
{
    for (const auto& target : {"/", "/index.html"}) {
        const auto res = handle(makeRequest(verb::get, target, ""));
        ASSERT_EQ(res.result(), status::ok) << target;
        EXPECT_EQ(res.body(), "<!doctype html><title>softswitch</title>");
        EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
        const std::string policy(res["Content-Security-Policy"]);
        EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
        EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
        EXPECT_EQ(res["X-Frame-Options"], "DENY");
    }
    const auto js = handle(makeRequest(verb::get, "/ui/app.js", ""));
    ASSERT_EQ(js.result(), status::ok);
    EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
    EXPECT_EQ(js.body(), "console.log(1);");

    const auto head = handle(makeRequest(verb::head, "/", ""));
    EXPECT_EQ(head.result(), status::ok);
    EXPECT_EQ(head.body(), "");
    EXPECT_EQ(head[http::field::content_length], "40");

    // Nothing outside the directory, no hidden files, no other methods.
    for (const auto& target : {"/ui/.secret", "/ui/../api.h", "/ui/%2e%2e%2fapi.h", "/ui/",
                               "/ui/nope.js", "/ui/sub/app.js"}) {
        const auto res = handle(makeRequest(verb::get, target, ""));
        EXPECT_EQ(res.result(), status::not_found) << target;
        EXPECT_TRUE(bodyJson(res).contains("error")) << target;
    }
    EXPECT_EQ(handle(makeRequest(verb::post, "/", "")).result(), status::method_not_allowed);
}

TEST(UiFiles, ThePageIsBuiltIntoTheBinary)
{
    const UiFiles embedded;
    const auto index = embedded.read("index.html");
    ASSERT_TRUE(index);
    EXPECT_NE(index->find("<html"), std::string::npos);
    EXPECT_NE(index->find("app.js"), std::string::npos);
    EXPECT_FALSE(embedded.read("../CMakeLists.txt"));
    EXPECT_FALSE(embedded.read("nope.html"));
    EXPECT_STREQ(uiContentType("style.css"), "text/css; charset=utf-8");
}

TEST_F(ApiTest, LoginSetsAnHttpOnlyStrictCookieForTheRightTokenOnly)
{
    const auto login = [&](const std::string& body) {
        return handle(makeRequest(verb::post, "/api/v1/session", "", body));
    };
    const auto ok = login(std::string(R"({"token":")") + kToken + "\"}");
    ASSERT_EQ(ok.result(), status::ok) << ok.body();
    const std::string cookie(ok[http::field::set_cookie]);
    EXPECT_EQ(cookie, std::string("ss_token=") + kToken + "; Path=/; HttpOnly; SameSite=Strict");

    const auto wrong = login(R"({"token":"test-token-0123456789abcdeX"})");
    EXPECT_EQ(wrong.result(), status::unauthorized);
    EXPECT_EQ(wrong.count(http::field::set_cookie), 0u);
    EXPECT_EQ(bodyJson(wrong)["error"], "the token is wrong");

    for (const auto& body : {"", "[]", R"({"token":1})", R"({"tok":"x"})", "{"}) {
        const auto bad = login(body);
        EXPECT_EQ(bad.result(), status::bad_request) << body;
        EXPECT_EQ(bodyJson(bad)["field"], "body") << body;
    }

    // A page elsewhere cannot log the browser in (or out).
    auto cross = makeRequest(verb::post, "/api/v1/session", "",
                             std::string(R"({"token":")") + kToken + "\"}");
    cross.set("Sec-Fetch-Site", "cross-site");
    EXPECT_EQ(handle(cross).result(), status::forbidden);
}

TEST_F(ApiTest, SessionSaysWhetherTheCookieIsValidAndLogoutClearsIt)
{
    EXPECT_EQ(handle(makeRequest(verb::get, "/api/v1/session", "")).result(),
              status::unauthorized);
    auto req = makeRequest(verb::get, "/api/v1/session", "");
    req.set(http::field::cookie, std::string("ss_token=") + kToken);
    EXPECT_EQ(handle(req).result(), status::ok);

    const auto out = handle(makeRequest(verb::delete_, "/api/v1/session", ""));
    EXPECT_EQ(out.result(), status::ok);
    EXPECT_EQ(out[http::field::set_cookie],
              "ss_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    EXPECT_EQ(handle(makeRequest(verb::put, "/api/v1/session", "")).result(),
              status::method_not_allowed);
}

TEST_F(ApiTest, StatusIsTheDashboardsFigures)
{
    live_.startedAt = common::SysTime(std::chrono::milliseconds(1767268800000));
    const auto res = get("/api/v1/status");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    const auto j = bodyJson(res);
    EXPECT_EQ(j["node"], live_.node);
    EXPECT_EQ(j["started_at"], "2026-01-01T12:00:00.000Z");
    EXPECT_EQ(j["calls_active"], live_.calls.size());
    EXPECT_EQ(j["cps"], 3);
    EXPECT_EQ(j["sip_receive_wait_ms"], 1042);
    const auto& c = j["counters"];
    EXPECT_EQ(c["calls_offered"], 12);
    EXPECT_EQ(c["calls_answered"], 5);
    EXPECT_EQ(c["calls_ended"], 10);
    EXPECT_EQ(c["attempts"], 7);  // summed over the gateways
    EXPECT_EQ(c["retransmissions"], 9);
    EXPECT_EQ(c["cdr_queue_depth"], 1);
    EXPECT_EQ(c["cdr_delivered"], 10);
    EXPECT_EQ(c["end_reasons"], Json({{"callee_bye", 4}, {"no_route", 6}}));
}

// --- live state --------------------------------------------------------------------------

TEST_F(ApiTest, CallsAreTheLiveCallsInSnakeCase)
{
    const auto res = get("/api/v1/calls");
    ASSERT_EQ(res.result(), status::ok);
    const auto j = bodyJson(res);
    EXPECT_EQ(j["at"], "2026-01-01T12:00:10.123Z");
    EXPECT_EQ(j["node"], "node-a");
    ASSERT_EQ(j["calls"].size(), 2u);
    const auto& c = j["calls"][0];
    std::vector<std::string> keys;
    for (const auto& [k, v] : c.items()) {
        keys.push_back(k);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"call_id", "caller", "callee", "callee_out",
                                              "state", "attempt", "setup_at", "ring_at",
                                              "answer_at", "legs", "timers"}));
    EXPECT_EQ(c["call_id"], "abc@10.0.0.1");
    EXPECT_EQ(c["callee_out"], "0015551234");
    EXPECT_EQ(c["attempt"], 2);
    EXPECT_EQ(c["setup_at"], "2026-01-01T12:00:00.123Z");
    EXPECT_EQ(c["ring_at"], "2026-01-01T12:00:01.623Z");
    EXPECT_EQ(c["answer_at"], "2026-01-01T12:00:04.123Z");
    EXPECT_EQ(c["legs"][1], Json({{"side", "callee"},
                                  {"gateway", "term1"},
                                  {"addr", "10.0.1.1:5060"},
                                  {"transport", "tcp"},
                                  {"state", "confirmed"}}));
    EXPECT_EQ(c["timers"][0], Json({{"name", "session_refresh"},
                                    {"due", "2026-01-01T12:22:34.123Z"}}));
    EXPECT_TRUE(j["calls"][1]["ring_at"].is_null());
    EXPECT_TRUE(j["calls"][1]["answer_at"].is_null());
}

TEST_F(ApiTest, GatewaysCarryLiveHealthAndCounters)
{
    const auto j = bodyJson(get("/api/v1/gateways"));
    ASSERT_EQ(j["gateways"].size(), 2u);
    const auto& g = j["gateways"][0];
    EXPECT_EQ(g["name"], "term1");
    EXPECT_EQ(g["role"], "termination");
    EXPECT_EQ(g["enabled"], true);
    EXPECT_EQ(g["site"], "east");
    EXPECT_EQ(g["probing"], true);
    EXPECT_EQ(g["cps"], 3);
    EXPECT_EQ(g["cps_limit"], 10);
    EXPECT_EQ(g["capacity"], 100);
    EXPECT_EQ(g["active_calls"], 1);
    EXPECT_EQ(g["attempts"], 7);
    EXPECT_EQ(g["outcomes"], Json({{"answered", 5}, {"timeout_invite", 2}}));
    EXPECT_EQ(g["addresses"][1], Json({{"addr", "10.0.1.2:5060"},
                                       {"health", "blacklisted"},
                                       {"penalty", 0.5},
                                       {"last_error", "timeout_invite"}}));
    EXPECT_EQ(j["gateways"][1]["enabled"], false);
    EXPECT_EQ(j["gateways"][1]["published"], false);
}

TEST_F(ApiTest, LiveStateThatDoesNotAnswerIs503)
{
    liveError_ = true;
    for (const auto& target : {"/api/v1/calls", "/api/v1/gateways", "/metrics"}) {
        const auto res = get(target);
        EXPECT_EQ(res.result(), status::service_unavailable) << target;
        EXPECT_NE(bodyJson(res)["error"].get<std::string>().find("did not answer"),
                  std::string::npos);
    }
    backend_.live = nullptr;
    EXPECT_EQ(get("/api/v1/calls").result(), status::service_unavailable);
}

// --- parameters --------------------------------------------------------------------------

TEST_F(ApiTest, ParamsListEveryParameterWithValueDefaultAndWhetherItDiffers)
{
    admin_->stored = {{"SS_SIP_TIMEOUT_INVITE", "15"},
                      {"SS_SIP_SEND_RETRY", "10"},   // stored, same as the default
                      {"SS_GATEWAY_SWITCH_LIMIT", "99"},  // refused: the default applies
                      {"SS_OLD_THING", "1"}};
    const auto j = bodyJson(get("/api/v1/params"));
    ASSERT_EQ(j["params"].size(), common::paramSpecs().size());
    std::map<std::string, Json> byName;
    for (const auto& p : j["params"]) {
        byName[p["name"]] = p;
    }
    EXPECT_EQ(j["params"][0]["name"], common::paramSpecs()[0].name);
    const auto& invite = byName["SS_SIP_TIMEOUT_INVITE"];
    EXPECT_EQ(invite["value"], "15");
    EXPECT_EQ(invite["default"], "10");
    EXPECT_EQ(invite["differs"], true);
    EXPECT_EQ(invite["stored"], "15");
    EXPECT_FALSE(invite["allowed"].get<std::string>().empty());
    EXPECT_FALSE(invite["meaning"].get<std::string>().empty());
    EXPECT_EQ(byName["SS_SIP_SEND_RETRY"]["differs"], false);
    EXPECT_EQ(byName["SS_SIP_TIMEOUT_TRYING"]["differs"], false);
    EXPECT_TRUE(byName["SS_SIP_TIMEOUT_TRYING"]["stored"].is_null());
    const auto& limit = byName["SS_GATEWAY_SWITCH_LIMIT"];
    EXPECT_EQ(limit["value"], "0");
    EXPECT_EQ(limit["differs"], false);
    EXPECT_TRUE(limit.contains("error"));
    EXPECT_EQ(j["unknown_stored"], Json::array({{{"name", "SS_OLD_THING"}, {"stored", "1"}}}));
}

TEST_F(ApiTest, OneParamByName)
{
    admin_->stored = {{"SS_SIP_ENABLE_100REL", "on"}};
    const auto j = bodyJson(get("/api/v1/params/SS_SIP_ENABLE_100REL"));
    EXPECT_EQ(j["value"], "on");
    EXPECT_EQ(j["differs"], true);
    const auto res = get("/api/v1/params/SS_NO_SUCH");
    EXPECT_EQ(res.result(), status::not_found);
    EXPECT_EQ(bodyJson(res)["field"], "name");
}

TEST_F(ApiTest, PutStoresAValidValueAndShowsThePrevious)
{
    admin_->stored = {{"SS_SIP_TIMEOUT_INVITE", "15"}};
    const auto res = handle(makeRequest(verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE",
                                        kToken, R"({"value":"20"})"));
    ASSERT_EQ(res.result(), status::ok) << res.body();
    const auto j = bodyJson(res);
    EXPECT_EQ(j["value"], "20");
    EXPECT_EQ(j["previous"], "15");
    EXPECT_EQ(admin_->setCalls,
              (std::vector<std::pair<std::string, std::string>>{{"SS_SIP_TIMEOUT_INVITE", "20"}}));
    // A JSON number is its text; the value stored is normalised.
    const auto num = handle(makeRequest(verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE",
                                        kToken, R"({"value":25})"));
    EXPECT_EQ(bodyJson(num)["value"], "25");
    const auto onoff = handle(makeRequest(verb::put, "/api/v1/params/SS_SIP_ENABLE_100REL",
                                          kToken, R"({"value":"ON"})"));
    EXPECT_EQ(bodyJson(onoff)["value"], "on");
    EXPECT_TRUE(bodyJson(onoff)["previous"].is_null());
}

TEST_F(ApiTest, PutRefusesAnInvalidValueNamingItAndWritesNothing)
{
    const auto res = handle(makeRequest(verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE",
                                        kToken, R"({"value":"301"})"));
    ASSERT_EQ(res.result(), status::bad_request);
    const auto j = bodyJson(res);
    EXPECT_EQ(j["field"], "value");
    EXPECT_EQ(j["value"], "301");
    EXPECT_EQ(j["allowed"], common::findParam("SS_SIP_TIMEOUT_INVITE")->allowed);
    EXPECT_NE(j["error"].get<std::string>().find("SS_SIP_TIMEOUT_INVITE"), std::string::npos);
    EXPECT_TRUE(admin_->setCalls.empty());
    EXPECT_EQ(handle(makeRequest(verb::put, "/api/v1/params/SS_NOPE", kToken,
                                 R"({"value":"1"})"))
                  .result(),
              status::not_found);
    EXPECT_TRUE(admin_->setCalls.empty());
}

TEST_F(ApiTest, PutRefusesBodiesThatAreNotAValueObject)
{
    for (const auto& body : {"", "{", "value=5", "[\"5\"]", "{\"value\":true}",
                             "{\"value\":\"5\",\"x\":1}", "{\"val\":\"5\"}", "null"}) {
        const auto res = handle(
            makeRequest(verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE", kToken, body));
        EXPECT_EQ(res.result(), status::bad_request) << body;
        EXPECT_TRUE(bodyJson(res).contains("field")) << body;
    }
    EXPECT_TRUE(admin_->setCalls.empty());
}

TEST_F(ApiTest, DeleteResetsToTheDefault)
{
    admin_->stored = {{"SS_SIP_TIMEOUT_INVITE", "15"}, {"SS_OLD_THING", "x"}};
    const auto res = handle(makeRequest(verb::delete_, "/api/v1/params/SS_SIP_TIMEOUT_INVITE"));
    ASSERT_EQ(res.result(), status::ok);
    EXPECT_EQ(bodyJson(res)["value"], "10");
    EXPECT_EQ(bodyJson(res)["removed"], "15");
    // A stored unknown name can be removed; a name that is neither is 404.
    const auto old = handle(makeRequest(verb::delete_, "/api/v1/params/SS_OLD_THING"));
    EXPECT_EQ(bodyJson(old), Json({{"name", "SS_OLD_THING"}, {"removed", "x"}}));
    EXPECT_EQ(handle(makeRequest(verb::delete_, "/api/v1/params/SS_NOPE")).result(),
              status::not_found);
}

// --- CDRs --------------------------------------------------------------------------------

cdr::CdrRow sampleRow()
{
    cdr::CdrRow r;
    r.id = 42;
    r.node = "node-a";
    r.callId = "a/b@c";
    r.caller = "4930100";
    r.callee = "15551234";
    r.setupAt = common::SysTime(std::chrono::milliseconds(1767268800123));
    r.endAt = r.setupAt + 60s;
    r.ringAt = r.setupAt + 1s;
    r.endDirection = "caller";
    r.endReason = "caller_bye";
    r.sipCode = 200;
    return r;
}

TEST_F(ApiTest, CdrQueryPassesEveryFilter)
{
    admin_->rows = {sampleRow()};
    const auto res = get("/api/v1/cdrs?since=-1h&until=2026-01-31T08:00:00Z&caller=4930"
                         "&callee=1555&gateway=term1&end_direction=callee&code=486"
                         "&reason=callee_rejected&limit=10000");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    ASSERT_EQ(admin_->queries.size(), 1u);
    const auto& q = admin_->queries[0];
    EXPECT_EQ(q.since, clock_.systemNow() - 1h);
    EXPECT_EQ(q.until, cdr::parseTimeSpec("2026-01-31T08:00:00Z", clock_.systemNow()));
    EXPECT_EQ(q.callerPrefix, "4930");
    EXPECT_EQ(q.calleePrefix, "1555");
    EXPECT_EQ(q.gateway, "term1");
    EXPECT_EQ(q.endDirection, cdr::EndDirection::Callee);
    EXPECT_EQ(q.sipCode, 486);
    EXPECT_EQ(q.endReason, "callee_rejected");
    EXPECT_EQ(q.limit, 10001);  // one more than shown: is there an older page?
    EXPECT_FALSE(q.before);
    const auto j = bodyJson(res);
    ASSERT_EQ(j["cdrs"].size(), 1u);
    EXPECT_EQ(j["cdrs"][0]["id"], 42);
    EXPECT_EQ(j["cdrs"][0]["call_id"], "a/b@c");
    EXPECT_EQ(j["cdrs"][0]["setup_at"], "2026-01-01T12:00:00.123Z");
    EXPECT_TRUE(j["cdrs"][0]["answer_at"].is_null());
    EXPECT_EQ(j["cdrs"][0].size(), 23u);  // the SPEC §4 cdr columns
}

TEST_F(ApiTest, CdrQueryDefaultsAndEmptyValues)
{
    ASSERT_EQ(get("/api/v1/cdrs?caller=&gateway=").result(), status::ok);
    const auto& q = admin_->queries.at(0);
    EXPECT_FALSE(q.since);
    EXPECT_FALSE(q.endDirection);
    EXPECT_EQ(q.gateway, "");
    EXPECT_EQ(q.limit, 101);
    // Percent-encoding and '+' in the query string.
    ASSERT_EQ(get("/api/v1/cdrs?since=2026-01-31+08%3A00&caller=%2B49").result(), status::ok);
    EXPECT_EQ(admin_->queries.at(1).callerPrefix, "+49");
    EXPECT_EQ(admin_->queries.at(1).since,
              cdr::parseTimeSpec("2026-01-31 08:00", clock_.systemNow()));
}

TEST_F(ApiTest, CdrQueryPagesWithAKeysetCursor)
{
    auto older = sampleRow();
    older.id = 41;
    older.setupAt -= 5s;
    auto oldest = sampleRow();
    oldest.id = 7;
    oldest.setupAt -= 9s;
    admin_->rows = {sampleRow(), older, oldest};  // the fake returns them all: limit+1 = 3
    const auto first = bodyJson(get("/api/v1/cdrs?limit=2"));
    ASSERT_EQ(first["cdrs"].size(), 2u);
    EXPECT_EQ(first["cdrs"][1]["id"], 41);
    const std::string next = first["next"];
    EXPECT_EQ(next, std::to_string(1767268800123 - 5000) + "_41");

    admin_->rows = {oldest};
    const auto second = bodyJson(get("/api/v1/cdrs?limit=2&before=" + next));
    const auto& q = admin_->queries.at(1);
    ASSERT_TRUE(q.before);
    EXPECT_EQ(q.before->setupAt, older.setupAt);
    EXPECT_EQ(q.before->id, 41);
    EXPECT_EQ(second["cdrs"].size(), 1u);
    EXPECT_TRUE(second["next"].is_null());  // the last page

    for (const auto& bad : {"x", "12_", "_5", "1.5_2", "12_-3", "1234567890123456_1"}) {
        const auto res = get(std::string("/api/v1/cdrs?before=") + bad);
        EXPECT_EQ(res.result(), status::bad_request) << bad;
        EXPECT_EQ(bodyJson(res)["field"], "before") << bad;
    }
}

TEST_F(ApiTest, CdrQueryRefusesBadValuesNamingParameterValueAndAllowed)
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"limit=0", "limit"},          {"limit=10001", "limit"},
        {"limit=abc", "limit"},        {"limit=5x", "limit"},
        {"since=yesterday", "since"},  {"until=-3y", "until"},
        {"code=700", "code"},          {"code=-1", "code"},
        {"end_direction=both", "end_direction"},
        {"reason=Callee%20Bye", "reason"},
        {"gateway=a%2Fb", "gateway"},  {"caller=1%0A2", "caller"},
        {"bogus=1", "bogus"},          {"limit=1&limit=2", "limit"},
    };
    for (const auto& [query, field] : cases) {
        const auto res = get("/api/v1/cdrs?" + query);
        EXPECT_EQ(res.result(), status::bad_request) << query;
        const auto j = bodyJson(res);
        EXPECT_EQ(j["field"], field) << query;
        EXPECT_TRUE(j.contains("error")) << query;
    }
    const auto j = bodyJson(get("/api/v1/cdrs?limit=0"));
    EXPECT_EQ(j["value"], "0");
    EXPECT_EQ(j["allowed"], "an integer from 1 to 10000");
    EXPECT_EQ(j["error"], "limit: \"0\" is not allowed; expected an integer from 1 to 10000");
    EXPECT_TRUE(admin_->queries.empty());
    EXPECT_EQ(get("/api/v1/cdrs?since=%zz").result(), status::bad_request);
}

TEST_F(ApiTest, CdrShowIsTheCallWithItsAttempts)
{
    cdr::CdrDetail d;
    d.cdr = sampleRow();
    cdr::CdrAttempt a;
    a.seq = 1;
    a.gateway = "term1";
    a.startedAt = d.cdr.setupAt;
    a.endedAt = d.cdr.setupAt + 2500ms;
    a.outcome = "timeout_invite";
    d.attempts = {a};
    admin_->details = {d};
    const auto res = get("/api/v1/cdrs/a%2Fb%40c");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    EXPECT_EQ(admin_->finds, std::vector<std::string>{"a/b@c"});
    const auto j = bodyJson(res);
    EXPECT_EQ(j["call_id"], "a/b@c");
    ASSERT_EQ(j["cdrs"].size(), 1u);
    EXPECT_EQ(j["cdrs"][0]["attempts"], 0);  // the count column, as in swctl
    EXPECT_EQ(j["cdrs"][0]["attempt_list"][0]["duration_ms"], 2500);
    EXPECT_TRUE(j["cdrs"][0]["attempt_list"][0]["sip_code"].is_null());
    // An unencoded '/' belongs to the Call-ID too.
    EXPECT_EQ(get("/api/v1/cdrs/a/b@c").result(), status::ok);

    const auto none = get("/api/v1/cdrs/nothing-here");
    EXPECT_EQ(none.result(), status::not_found);
    EXPECT_EQ(bodyJson(none)["call_id"], "nothing-here");
    EXPECT_EQ(get("/api/v1/cdrs/a%0Ab").result(), status::bad_request);
}

TEST_F(ApiTest, CdrStatsAsSwctlStats)
{
    cdr::CdrStatsRow r;
    r.group = "term1";
    r.calls = 3;
    r.answered = 2;
    r.answeredHoldMs = 126500;
    r.effective = 3;
    r.pddP50Ms = 1500;
    r.failures = {{"timeout_invite", 408, 1}};
    admin_->stats = {r};
    const auto res = get("/api/v1/cdr-stats");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    const auto& q = admin_->statsQueries.at(0);
    EXPECT_EQ(q.since, clock_.systemNow() - 24h);
    EXPECT_FALSE(q.until);
    EXPECT_EQ(q.by, cdr::StatsGroup::Gateway);
    EXPECT_EQ(q.topFailures, 5);
    const auto j = bodyJson(res);
    EXPECT_EQ(j["by"], "gateway");
    EXPECT_EQ(j["since"], cdr::formatIsoMillis(clock_.systemNow() - 24h));
    EXPECT_TRUE(j["until"].is_null());
    const auto& g = j["groups"][0];
    EXPECT_EQ(g["asr"], 0.6667);
    EXPECT_EQ(g["acd_s"], 63.3);
    EXPECT_EQ(g["ner"], 1.0);
    EXPECT_EQ(g["pdd_p50_ms"], 1500);
    EXPECT_TRUE(g["pdd_p95_ms"].is_null());
    EXPECT_EQ(g["failures"][0],
              Json({{"end_reason", "timeout_invite"}, {"sip_code", 408}, {"calls", 1}}));

    ASSERT_EQ(get("/api/v1/cdr-stats?by=end-direction&top=0&since=-2d&until=now").result(),
              status::ok);
    EXPECT_EQ(admin_->statsQueries.at(1).by, cdr::StatsGroup::EndDirection);
    EXPECT_EQ(admin_->statsQueries.at(1).topFailures, 0);
    EXPECT_EQ(bodyJson(get("/api/v1/cdr-stats?by=site"))["field"], "by");
    EXPECT_EQ(bodyJson(get("/api/v1/cdr-stats?top=101"))["field"], "top");
    EXPECT_EQ(bodyJson(get("/api/v1/cdr-stats?limit=1"))["field"], "limit");
}

TEST_F(ApiTest, CdrStatsPerHourForTheCharts)
{
    const common::SysTime h0(std::chrono::milliseconds(1767268800000));
    cdr::CdrStatsRow a;
    a.hour = h0;
    a.group = "term1";
    a.calls = 4;
    a.answered = 2;
    auto b = a;
    b.group = "term2";
    auto c = a;
    c.hour = h0 + 1h;
    admin_->stats = {a, b, c};
    const auto res = get("/api/v1/cdr-stats?bucket=hour&since=-6h");
    ASSERT_EQ(res.result(), status::ok) << res.body();
    ASSERT_EQ(admin_->statsQueries.size(), 2u);  // the totals, then per hour
    EXPECT_FALSE(admin_->statsQueries[0].hourly);
    EXPECT_TRUE(admin_->statsQueries[1].hourly);
    EXPECT_EQ(admin_->statsQueries[1].since, clock_.systemNow() - 6h);
    const auto j = bodyJson(res);
    EXPECT_EQ(j["groups"].size(), 3u);
    ASSERT_EQ(j["buckets"].size(), 2u);
    EXPECT_EQ(j["buckets"][0]["start"], "2026-01-01T12:00:00.000Z");
    EXPECT_EQ(j["buckets"][0]["groups"].size(), 2u);
    EXPECT_EQ(j["buckets"][0]["groups"][1]["group"], "term2");
    EXPECT_EQ(j["buckets"][1]["start"], "2026-01-01T13:00:00.000Z");
    EXPECT_EQ(j["buckets"][1]["groups"][0]["asr"], 0.5);

    EXPECT_FALSE(bodyJson(get("/api/v1/cdr-stats"))
                     .contains("buckets"));
    EXPECT_EQ(bodyJson(get("/api/v1/cdr-stats?bucket=day"))["field"], "bucket");
}

// --- gateways enable / disable -----------------------------------------------------------

TEST_F(ApiTest, EnableAndDisableAGateway)
{
    admin_->gateways = {{"term1", true}};
    const auto res = handle(makeRequest(verb::post, "/api/v1/gateways/term1/disable"));
    ASSERT_EQ(res.result(), status::ok);
    EXPECT_EQ(bodyJson(res), Json({{"name", "term1"}, {"enabled", false}}));
    EXPECT_FALSE(admin_->gateways["term1"]);
    EXPECT_EQ(handle(makeRequest(verb::post, "/api/v1/gateways/term1/enable")).result(),
              status::ok);
    EXPECT_TRUE(admin_->gateways["term1"]);
    EXPECT_EQ(handle(makeRequest(verb::post, "/api/v1/gateways/ghost/enable")).result(),
              status::not_found);
    EXPECT_EQ(handle(makeRequest(verb::post, "/api/v1/gateways/bad%20name/enable")).result(),
              status::bad_request);
    const auto wrong = get("/api/v1/gateways/term1/enable");
    EXPECT_EQ(wrong.result(), status::method_not_allowed);
    EXPECT_EQ(wrong[http::field::allow], "POST");
    EXPECT_EQ(get("/api/v1/gateways/term1/reboot").result(), status::not_found);
}

// --- errors ------------------------------------------------------------------------------

TEST_F(ApiTest, BackendErrorsMapToStatuses)
{
    admin_->fail = [] { throw cdr::DbUnavailable("connection refused"); };
    auto res = get("/api/v1/params");
    EXPECT_EQ(res.result(), status::service_unavailable);
    EXPECT_NE(bodyJson(res)["error"].get<std::string>().find("connection refused"),
              std::string::npos);
    admin_->fail = [] { throw cdr::ValidationError("NAME", "x", "NAME: \"x\" is not allowed"); };
    res = get("/api/v1/cdrs");
    EXPECT_EQ(res.result(), status::bad_request);
    EXPECT_EQ(bodyJson(res)["field"], "NAME");
    admin_->fail = [] { throw ConfigError("schema version 3, expected 4"); };
    EXPECT_EQ(get("/api/v1/cdr-stats").result(), status::internal_server_error);
    admin_->fail = [] { throw std::logic_error("oops"); };
    EXPECT_EQ(get("/api/v1/cdrs/x").result(), status::internal_server_error);
    admin_->fail = [] { throw 42; };
    EXPECT_EQ(get("/api/v1/params/SS_SIP_SEND_RETRY").result(),
              status::internal_server_error);
    backend_.admin = nullptr;
    EXPECT_EQ(get("/api/v1/params").result(), status::service_unavailable);
}

TEST_F(ApiTest, UnknownPathIs404AndWrongMethodIs405WithAllow)
{
    for (const auto& target : {"/api/v1/nope", "/api/v2/calls", "/api/v1/calls/", "/favicon.ico",
                               "/api/v1/params/A/B", "/api/v1"}) {
        const auto res = get(target);
        EXPECT_EQ(res.result(), status::not_found) << target;
        EXPECT_TRUE(bodyJson(res).contains("error")) << target;
    }
    auto res = handle(makeRequest(verb::post, "/api/v1/calls"));
    EXPECT_EQ(res.result(), status::method_not_allowed);
    EXPECT_EQ(res[http::field::allow], "GET");
    res = handle(makeRequest(verb::patch, "/api/v1/params/SS_SIP_SEND_RETRY"));
    EXPECT_EQ(res[http::field::allow], "GET, PUT, DELETE");
    EXPECT_EQ(handle(makeRequest(verb::delete_, "/metrics")).result(),
              status::method_not_allowed);
    EXPECT_EQ(handle(makeRequest(verb::post, "/api/v1/ping", "")).result(),
              status::method_not_allowed);
}

TEST_F(ApiTest, OversizedBodyIs413)
{
    const auto res = handle(makeRequest(verb::put, "/api/v1/params/SS_SIP_SEND_RETRY", kToken,
                                        std::string(kMaxBodyBytes + 1, ' ')));
    EXPECT_EQ(res.result(), status::payload_too_large);
    EXPECT_TRUE(admin_->setCalls.empty());
}

TEST_F(ApiTest, ResponsesFollowTheRequestsVersionAndKeepAlive)
{
    auto req = makeRequest(verb::get, "/api/v1/calls");
    EXPECT_TRUE(handle(req).keep_alive());
    req.keep_alive(false);
    EXPECT_FALSE(handle(req).keep_alive());
    req.version(10);
    req.keep_alive(false);
    const auto res = handle(req);
    EXPECT_EQ(res.version(), 10);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
    EXPECT_EQ(res[http::field::cache_control], "no-store");
}

TEST_F(ApiTest, NonUtf8DataBecomesReplacementCharacters)
{
    live_.calls[0].caller = "49\xff\xfe";
    const auto res = get("/api/v1/calls");
    ASSERT_EQ(res.result(), status::ok);
    EXPECT_EQ(bodyJson(res)["calls"][0]["caller"], "49\xEF\xBF\xBD\xEF\xBF\xBD");
}

// Random methods, targets, headers and bodies: always an answer, never an exception, and JSON
// unless it is /metrics.
TEST_F(ApiTest, SurvivesHostileRequests)
{
    std::mt19937 rng(20261122);
    const std::vector<std::string> pieces = {
        "/api/v1/", "calls", "params/", "SS_SIP_SEND_RETRY", "cdrs", "?", "&", "=", "%", "%2",
        "%00", "%ff", "/", "..", "cdr-stats", "gateways/", "enable", "limit", "since", "-1h",
        "\xff", " ", "#", "metrics", "ping", "\r\n", "+"};
    const std::vector<verb> verbs = {verb::get, verb::put, verb::post, verb::delete_,
                                     verb::patch, verb::options, verb::head};
    Api api(backend_, kToken, clock_);
    // Hundreds of 503 warnings would bury the rest of the test log.
    const auto log = common::logger("web");
    const auto level = log->level();
    log->set_level(spdlog::level::err);
    for (int i = 0; i < 3000; ++i) {
        std::string target = rng() % 10 == 0 ? "" : "/";
        const int n = static_cast<int>(rng() % 8);
        for (int k = 0; k < n; ++k) {
            target += pieces[rng() % pieces.size()];
        }
        if (rng() % 5 == 0) {
            for (int k = 0; k < 5; ++k) {
                target.push_back(static_cast<char>(rng() % 256));
            }
        }
        Request req{verbs[rng() % verbs.size()], target, 11};
        if (rng() % 4 != 0) {
            req.set(http::field::authorization, std::string("Bearer ") + kToken);
        }
        if (rng() % 3 == 0) {
            std::string cookie;
            for (int k = 0; k < 20; ++k) {
                cookie.push_back(static_cast<char>(rng() % 256));
            }
            req.set(http::field::cookie, cookie);
        }
        if (rng() % 3 == 0) {
            std::string body;
            const int len = static_cast<int>(rng() % 64);
            for (int k = 0; k < len; ++k) {
                body.push_back(static_cast<char>(rng() % 256));
            }
            req.body() = rng() % 2 == 0 ? body : "{\"value\":\"" + body + "\"}";
        }
        if (rng() % 7 == 0) {
            admin_->fail = [] { throw cdr::DbUnavailable("down"); };
        } else {
            admin_->fail = nullptr;
        }
        Response res;
        ASSERT_NO_THROW(res = api.handle(req)) << target;
        const int code = res.result_int();
        EXPECT_TRUE(code == 200 || (code >= 400 && code <= 503)) << code << " " << target;
        // 200s of /metrics and the page (/, /index.html, /ui/...) are not JSON.
        const std::string type(res[http::field::content_type]);
        if (code != 200 || type.rfind("application/json", 0) == 0) {
            EXPECT_FALSE(Json::parse(res.body(), nullptr, false).is_discarded())
                << target << " -> " << res.body();
        }
    }
    log->set_level(level);
}

}  // namespace
}  // namespace ss::web
