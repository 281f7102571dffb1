// SPDX-License-Identifier: Apache-2.0
// The built swctl without a database: the live commands against a fake daemon API (a Beast
// server on 127.0.0.1, port chosen by the OS), the completion script and every command's help.

#include "pg_fixture.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace ss::pgtest {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using nlohmann::json;

/// softswitchd's API as far as swctl sees it: canned replies by target, and a record of the
/// requests. Serves on its own thread until destroyed.
class FakeApi {
public:
    struct Reply {
        int status = 200;
        std::string body;
    };
    struct Seen {
        std::string target;
        std::string authorization;
    };

    FakeApi() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0))
    {
        accept();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~FakeApi()
    {
        ioc_.stop();
        thread_.join();
    }
    std::string url() const
    {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    void reply(const std::string& target, Reply r)
    {
        std::lock_guard lock(mutex_);
        replies_[target] = std::move(r);
    }
    std::vector<Seen> seen()
    {
        std::lock_guard lock(mutex_);
        return seen_;
    }

private:
    void accept()
    {
        acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) {
                return;
            }
            serve(socket);
            accept();
        });
    }
    // One request per connection, answered synchronously (the test waits on swctl anyway).
    void serve(tcp::socket& socket)
    {
        beast::error_code ec;
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        http::read(socket, buffer, request, ec);
        if (ec) {
            return;
        }
        Reply r{404, R"({"error":"not found"})"};
        {
            std::lock_guard lock(mutex_);
            seen_.push_back({std::string(request.target()),
                             std::string(request[http::field::authorization])});
            const auto it = replies_.find(std::string(request.target()));
            if (it != replies_.end()) {
                r = it->second;
            }
        }
        http::response<http::string_body> response{static_cast<http::status>(r.status), 11};
        response.set(http::field::content_type, "application/json");
        response.body() = r.body;
        response.prepare_payload();
        http::write(socket, response, ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::mutex mutex_;
    std::map<std::string, Reply> replies_;
    std::vector<Seen> seen_;
};

/// A 127.0.0.1 port nobody listens on: bound by the OS, then closed again.
std::string refusingUrl()
{
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    acceptor.close();
    return "http://127.0.0.1:" + std::to_string(port);
}

/// swctl with a controlled environment: no ambient API, token or database settings leak in.
ProcessResult swctlEnv(const std::vector<std::string>& env, const std::vector<std::string>& args)
{
    std::vector<std::string> argv = {"/usr/bin/env",       "-u", "SOFTSWITCH_API",
                                     "-u",                 "SOFTSWITCH_HTTP_TOKEN",
                                     "-u",                 "SOFTSWITCH_DB"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(SS_SWCTL_PATH);
    argv.insert(argv.end(), args.begin(), args.end());
    return runProcess(argv);
}

const char* const kCalls = R"({
  "at": "2026-01-01T10:01:05.000Z",
  "node": "node-a",
  "calls": [
    {"call_id": "c-1@10.0.0.1", "caller": "4930111", "callee": "4989222", "callee_out": "89222",
     "state": "up", "attempt": 2, "setup_at": "2026-01-01T10:00:00.000Z",
     "ring_at": "2026-01-01T10:00:01.000Z", "answer_at": "2026-01-01T10:00:05.000Z",
     "legs": [
       {"side": "caller", "gateway": "orig1", "addr": "10.0.0.1:5060", "transport": "udp",
        "state": "confirmed"},
       {"side": "callee", "gateway": "term2", "addr": "10.0.1.2:5060", "transport": "tcp",
        "state": "confirmed"}],
     "timers": [{"name": "session_refresh", "due": "2026-01-01T10:22:35.000Z"}]},
    {"call_id": "c-2@10.0.0.1", "caller": "4930333", "callee": "4989444", "callee_out": "",
     "state": "routing", "attempt": 0, "setup_at": "2026-01-01T10:01:04.500Z",
     "ring_at": null, "answer_at": null,
     "legs": [{"side": "caller", "gateway": "orig1", "addr": "10.0.0.1:5060",
               "transport": "udp", "state": "trying"}],
     "timers": []}
  ]
})";

const char* const kGateways = R"({
  "at": "2026-01-01T10:01:05.000Z",
  "gateways": [
    {"name": "term1", "role": "termination", "enabled": true, "site": "fra", "transport": "udp",
     "published": true, "probing": true,
     "addresses": [
       {"addr": "10.0.1.1:5060", "health": "up", "penalty": 0, "last_error": ""},
       {"addr": "10.0.1.3:5060", "health": "blacklisted", "penalty": 0.5,
        "last_error": "timeout_invite"}],
     "active_calls": 3, "capacity": 30, "cps": 2, "cps_limit": 0,
     "last_error": "timeout_invite", "attempts": 17, "outcomes": {"answered": 15}},
    {"name": "term2", "role": "termination", "enabled": false, "site": "", "transport": "tcp",
     "published": true, "probing": false,
     "addresses": [{"addr": "10.0.1.2:5060", "health": "up", "penalty": 0, "last_error": ""}],
     "active_calls": 0, "capacity": 0, "cps": 0, "cps_limit": 10, "last_error": "",
     "attempts": 0, "outcomes": {}}
  ]
})";

class SwctlLive : public ::testing::Test {
protected:
    void SetUp() override
    {
        api_.reply("/api/v1/calls", {200, kCalls});
        api_.reply("/api/v1/gateways", {200, kGateways});
    }
    ProcessResult run(std::vector<std::string> args, const std::string& token = "s3cret")
    {
        return swctlEnv({"SOFTSWITCH_HTTP_TOKEN=" + token, "SOFTSWITCH_API=" + api_.url()},
                        args);
    }
    FakeApi api_;
};

TEST_F(SwctlLive, CallsAsksTheApiWithTheBearerTokenAndPrintsATable)
{
    const auto r = run({"calls"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const auto seen = api_.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].target, "/api/v1/calls");
    EXPECT_EQ(seen[0].authorization, "Bearer s3cret");
    EXPECT_THAT(r.out, ::testing::StartsWith("CALL_ID  "));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nc-1@10.0.0.1 +4930111 +4989222 +89222 +up +2 "
                                                "+term2 +10.0.1.2:5060 +2026-01-01T10:00:00.000Z "
                                                "+0:01:05 +0:01:00\n"));
    EXPECT_THAT(r.out,
                ::testing::ContainsRegex("\nc-2@10.0.0.1 .* routing +0 +- +- .* 0:00:00 +-\n"));
}

TEST_F(SwctlLive, JsonPassesTheApisJsonThrough)
{
    const auto calls = run({"calls", "--json"});
    ASSERT_EQ(calls.exitCode, 0) << calls.err;
    EXPECT_EQ(json::parse(calls.out), json::parse(kCalls));
    const auto gateways = run({"gateway", "status", "--json"});
    ASSERT_EQ(gateways.exitCode, 0) << gateways.err;
    EXPECT_EQ(json::parse(gateways.out), json::parse(kGateways));
}

TEST_F(SwctlLive, GatewayStatusShowsHealthCallsAndCpsPerGateway)
{
    const auto r = run({"gateway", "status"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(api_.seen().at(0).target, "/api/v1/gateways");
    EXPECT_THAT(r.out, ::testing::StartsWith("NAME   ROLE         STATE     PROBING  CALLS  CPS"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex(
                           "\nterm1 +termination +1/2 up +yes +3/30 +2/- +fra +10.0.1.1:5060 up, "
                           "10.0.1.3:5060 blacklisted\\(0.50\\) +timeout_invite\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\nterm2 +termination +disabled +no +0/- +0/10 "));

    // One gateway by name; one the switch does not know is a usage error naming it.
    const auto one = run({"gateway", "status", "term2", "--json"});
    ASSERT_EQ(one.exitCode, 0) << one.err;
    const auto j = json::parse(one.out);
    ASSERT_EQ(j.at("gateways").size(), 1u);
    EXPECT_EQ(j.at("gateways")[0].at("name"), "term2");
    const auto unknown = run({"gateway", "status", "nope"});
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_THAT(unknown.err, HasSubstr("swctl: NAME: \"nope\" is not allowed"));
}

TEST_F(SwctlLive, TheTokenMayComeFromAFileAndTheUrlFromApi)
{
    const std::string path = ::testing::TempDir() + "ss_token_" + std::to_string(::getpid());
    std::ofstream(path) << "from-file\n";
    const auto r = swctlEnv({}, {"calls", "--api", api_.url(), "--token-file", path});
    std::filesystem::remove(path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(api_.seen().at(0).authorization, "Bearer from-file");

    const auto missing = swctlEnv({}, {"calls", "--api", api_.url(), "--token-file",
                                       "/nonexistent/ss-token"});
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_THAT(missing.err, HasSubstr("swctl: --token-file: \"/nonexistent/ss-token\" is not "
                                       "allowed; expected a readable file"));
    // No token at all: the request goes without one.
    EXPECT_EQ(swctlEnv({}, {"calls", "--api", api_.url()}).exitCode, 0);
    EXPECT_EQ(api_.seen().back().authorization, "");
}

TEST_F(SwctlLive, ARefusedTokenExitsOne)
{
    api_.reply("/api/v1/calls", {401, R"({"error":"unauthorized"})"});
    const auto r = run({"calls"}, "wrong");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_THAT(r.err, HasSubstr("token refused"));
    EXPECT_THAT(r.err, HasSubstr(api_.url() + "/api/v1/calls"));
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("wrong")));  // never print the secret
    EXPECT_EQ(r.out, "");

    api_.reply("/api/v1/gateways", {500, "internal error\n"});
    const auto failed = run({"gateway", "status"});
    EXPECT_EQ(failed.exitCode, 1);
    EXPECT_THAT(failed.err, HasSubstr("HTTP 500: internal error"));

    api_.reply("/api/v1/calls", {200, "<html>"});
    const auto garbage = run({"calls"});
    EXPECT_EQ(garbage.exitCode, 1);
    EXPECT_THAT(garbage.err, HasSubstr("not JSON"));
}

TEST_F(SwctlLive, AnUnreachableDaemonExitsOneNamingTheUrl)
{
    const auto url = refusingUrl();
    for (const auto& command : std::vector<std::vector<std::string>>{
             {"calls", "--api", url}, {"gateway", "status", "--api", url}}) {
        const auto r = swctlEnv({}, command);
        EXPECT_EQ(r.exitCode, 1);
        EXPECT_THAT(r.err, HasSubstr("swctl: cannot reach softswitchd's API at " + url));
        EXPECT_THAT(r.err, HasSubstr("refused"));
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(SwctlLive, ABadApiUrlIsAUsageError)
{
    for (const std::string url : {"https://127.0.0.1:8088", "127.0.0.1:8088", "http://",
                                  "http://127.0.0.1:99999"}) {
        const auto r = swctlEnv({}, {"calls", "--api", url});
        EXPECT_EQ(r.exitCode, 2) << url;
        EXPECT_THAT(r.err, HasSubstr("swctl: --api: \"" + url + "\" is not allowed")) << url;
    }
    EXPECT_TRUE(api_.seen().empty());
}

// Every command, as a path of words.
const std::vector<std::vector<std::string>>& allCommands()
{
    static const std::vector<std::vector<std::string>> kCommands = {
        {},
        {"db"},
        {"db", "migrate"},
        {"db", "maintain"},
        {"param"},
        {"param", "list"},
        {"param", "get"},
        {"param", "set"},
        {"param", "reset"},
        {"gateway"},
        {"gateway", "add"},
        {"gateway", "list"},
        {"gateway", "show"},
        {"gateway", "set"},
        {"gateway", "enable"},
        {"gateway", "disable"},
        {"gateway", "remove"},
        {"gateway", "status"},
        {"route"},
        {"route", "add"},
        {"route", "list"},
        {"route", "remove"},
        {"cdr"},
        {"cdr", "query"},
        {"cdr", "show"},
        {"cdr", "stats"},
        {"audit"},
        {"calls"},
        {"completion"},
    };
    return kCommands;
}

TEST(SwctlHelp, EveryCommandExplainsItselfWithAnExample)
{
    for (auto args : allCommands()) {
        args.push_back("--help");
        const auto r = swctlEnv({}, args);
        EXPECT_EQ(r.exitCode, 0) << ::testing::PrintToString(args) << r.err;
        EXPECT_THAT(r.out, HasSubstr("Usage: swctl")) << ::testing::PrintToString(args);
        EXPECT_THAT(r.out, ::testing::ContainsRegex("Examples?:\n  (swctl|source|SOFTSWITCH)"))
            << ::testing::PrintToString(args) << r.out;
    }
}

TEST(SwctlCompletion, BashScriptNamesEveryCommandAndIsValidBash)
{
    const auto r = swctlEnv({}, {"completion", "bash"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("complete -o default -F _swctl swctl"));
    for (const auto& command : allCommands()) {
        if (!command.empty()) {
            EXPECT_THAT(r.out, HasSubstr(command.back())) << command.back();
        }
    }
    for (const char* word : {"--role", "--prefix-strip", "--format", "--token-file",
                             "SS_SIP_TIMEOUT_INVITE", "failover-codes=", "capacity="}) {
        EXPECT_THAT(r.out, HasSubstr(word));
    }
    // Syntax only: bash -n parses without running.
    const std::string path = ::testing::TempDir() + "ss_completion_" + std::to_string(::getpid());
    std::ofstream(path) << r.out;
    const auto check = runProcess({"/bin/bash", "-n", path});
    EXPECT_EQ(check.exitCode, 0) << check.err;

    // And it completes: subcommands, then fixed values.
    const auto complete = [&path](const std::string& words) {
        return runProcess({"/bin/bash", "-c",
                           "source " + path + "; COMP_WORDS=(" + words +
                               "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _swctl; "
                               "echo \"${COMPREPLY[*]}\""})
            .out;
    };
    EXPECT_EQ(complete("swctl gateway s"), "show set status\n");
    EXPECT_EQ(complete("swctl gateway add g1 --role ''"), "origination termination\n");
    EXPECT_EQ(complete("swctl --json cdr query --format c"), "csv\n");
    EXPECT_EQ(complete("swctl gateway set g1 prefix-"), "prefix-strip= prefix-add=\n");
    std::filesystem::remove(path);

    EXPECT_EQ(swctlEnv({}, {"completion", "fish"}).exitCode, 2);
    EXPECT_EQ(swctlEnv({}, {"completion"}).exitCode, 2);
}

}  // namespace
}  // namespace ss::pgtest
