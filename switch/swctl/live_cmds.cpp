// SPDX-License-Identifier: Apache-2.0
// swctl calls | gateway status: the running switch's live state, from its HTTP API (SPEC §1),
// so they work only while softswitchd runs (configuration commands work without it).

#include "cdr/errors.h"
#include "cdr/time_format.h"
#include "common/clock.h"
#include "switch/swctl/context.h"
#include "switch/swctl/http_client.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace ss::swctl {

namespace {

constexpr const char* kDefaultApi = "http://127.0.0.1:8088";
constexpr std::chrono::seconds kTimeout{5};

std::string trimmed(const std::string& text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return "";
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The bearer token: --token-file, else SOFTSWITCH_HTTP_TOKEN, else none. Never from argv
// (SPEC; STYLE §5): a command line is visible to every user of the host.
std::string apiToken(const Context& ctx)
{
    const std::string expected = "a readable file holding the API token (one line)";
    std::string token;
    if (!ctx.tokenFile.empty()) {
        std::ifstream in(ctx.tokenFile);
        if (!in) {
            throw cdr::invalidValue("--token-file", ctx.tokenFile, expected);
        }
        std::ostringstream text;
        text << in.rdbuf();
        token = trimmed(text.str());
        if (token.empty()) {
            throw cdr::invalidValue("--token-file", ctx.tokenFile, expected + " (it is empty)");
        }
    } else if (const char* env = std::getenv("SOFTSWITCH_HTTP_TOKEN")) {
        token = trimmed(env);
    }
    for (const char c : token) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            // The value is a secret: name where it came from, not what it is.
            throw cdr::ValidationError(
                "token", "",
                "the API token (" +
                    (ctx.tokenFile.empty() ? std::string("SOFTSWITCH_HTTP_TOKEN")
                                           : "--token-file " + ctx.tokenFile) +
                    ") contains control characters; expected one line of printable text");
        }
    }
    return token;
}

// GET `path` and parse the JSON. Unreachable, refused or broken: a runtime_error (exit 1).
Json fetch(const Context& ctx, const std::string& path)
{
    const auto api = parseApiUrl(ctx.api.empty() ? kDefaultApi : ctx.api);
    const std::string token = apiToken(ctx);
    const auto response = httpGet(api, path, token, kTimeout);
    const std::string where = api.text + path;
    if (response.status == 401 || response.status == 403) {
        throw std::runtime_error(
            where + ": token refused (HTTP " + std::to_string(response.status) + "); " +
            (token.empty() ? "no token was sent: set SOFTSWITCH_HTTP_TOKEN or use --token-file"
                           : "check SOFTSWITCH_HTTP_TOKEN or the --token-file"));
    }
    if (response.status != 200) {
        const auto line = response.body.substr(0, response.body.find('\n'));
        throw std::runtime_error(where + ": HTTP " + std::to_string(response.status) +
                                 (line.empty() ? "" : ": " + line.substr(0, 200)));
    }
    try {
        return Json::parse(response.body);
    } catch (const Json::exception& e) {
        throw std::runtime_error(where + ": the reply is not JSON (" + e.what() + ")");
    }
}

// A member as text whatever its JSON type; "" when absent or null.
std::string text(const Json& j, const char* key)
{
    if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) {
        return "";
    }
    const auto& v = j.at(key);
    return v.is_string() ? v.get<std::string>() : v.dump();
}

long long number(const Json& j, const char* key)
{
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_number()) {
        return 0;
    }
    return j.at(key).get<long long>();
}

const Json& array(const Json& j, const char* key)
{
    static const Json kEmpty = Json::array();
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_array()) {
        return kEmpty;
    }
    return j.at(key);
}

// How long ago `since` was, as of `at` (both API times): H:MM:SS, "" when either is unknown.
std::string age(const std::string& since, const std::string& at)
{
    const common::SystemClock clock;
    const auto now = clock.systemNow();
    const auto from = cdr::parseTimeSpec(since, now);
    const auto to = at.empty() ? std::optional(now) : cdr::parseTimeSpec(at, now);
    if (since.empty() || !from || !to || *to < *from) {
        return "";
    }
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(*to - *from).count();
    char out[32];
    std::snprintf(out, sizeof out, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    return out;
}

int callsCommand(Context& ctx)
{
    const auto reply = fetch(ctx, "/api/v1/calls");
    if (ctx.json) {
        printJson(reply);
        return 0;
    }
    const std::string at = text(reply, "at");
    std::vector<Row> rows;
    for (const auto& call : array(reply, "calls")) {
        // The callee side's gateway: the leg of the attempt in progress (the last one).
        std::string gateway;
        std::string addr;
        for (const auto& leg : array(call, "legs")) {
            if (text(leg, "side") == "callee") {
                gateway = text(leg, "gateway");
                addr = text(leg, "addr");
            }
        }
        rows.push_back({text(call, "call_id"), text(call, "caller"), text(call, "callee"),
                        text(call, "callee_out"), text(call, "state"), text(call, "attempt"),
                        gateway.empty() ? "-" : gateway, addr.empty() ? "-" : addr,
                        text(call, "setup_at"), age(text(call, "setup_at"), at),
                        text(call, "answer_at").empty()
                            ? "-"
                            : age(text(call, "answer_at"), at)});
    }
    printTable({"CALL_ID", "CALLER", "CALLEE", "CALLEE_OUT", "STATE", "ATTEMPT", "GATEWAY",
                "ADDR", "SETUP_AT", "AGE", "TALKING"},
               rows);
    return 0;
}

// One word for a gateway's state: disabled, unpublished (PUBLISH heartbeat lapsed), or its
// addresses' health — up, blacklisted, probe_down, or "n/m up" when they differ.
std::string gatewayState(const Json& gw)
{
    if (gw.contains("enabled") && gw.at("enabled") == false) {
        return "disabled";
    }
    if (gw.contains("published") && gw.at("published") == false) {
        return "unpublished";
    }
    const auto& addresses = array(gw, "addresses");
    if (addresses.empty()) {
        return "-";
    }
    std::size_t up = 0;
    const std::string first = text(addresses[0], "health");
    bool same = true;
    for (const auto& a : addresses) {
        up += text(a, "health") == "up" ? 1 : 0;
        same = same && text(a, "health") == first;
    }
    if (same) {
        return first;
    }
    return std::to_string(up) + "/" + std::to_string(addresses.size()) + " up";
}

std::string ofLimit(long long value, long long limit)
{
    return std::to_string(value) + "/" + (limit == 0 ? std::string("-") : std::to_string(limit));
}

std::string addressesText(const Json& gw)
{
    std::string out;
    for (const auto& a : array(gw, "addresses")) {
        std::string item = text(a, "addr") + " " + text(a, "health");
        if (a.contains("penalty") && a.at("penalty").is_number() &&
            a.at("penalty").get<double>() > 0) {
            char penalty[32];
            std::snprintf(penalty, sizeof penalty, "(%.2f)", a.at("penalty").get<double>());
            item += penalty;
        }
        out += (out.empty() ? "" : ", ") + item;
    }
    return out.empty() ? "-" : out;
}

int statusCommand(Context& ctx, const std::string& nameText)
{
    const std::string name = nameText.empty() ? "" : parseName("NAME", nameText);
    auto reply = fetch(ctx, "/api/v1/gateways");
    if (!name.empty()) {
        Json only = Json::array();
        for (const auto& gw : array(reply, "gateways")) {
            if (text(gw, "name") == name) {
                only.push_back(gw);
            }
        }
        if (only.empty()) {
            throw cdr::invalidValue("NAME", name,
                                    "the name of a gateway the running switch knows (swctl "
                                    "gateway status lists them)");
        }
        reply["gateways"] = std::move(only);
    }
    if (ctx.json) {
        printJson(reply);
        return 0;
    }
    std::vector<Row> rows;
    for (const auto& gw : array(reply, "gateways")) {
        rows.push_back({text(gw, "name"), text(gw, "role"), gatewayState(gw),
                        gw.value("probing", false) ? "yes" : "no",
                        ofLimit(number(gw, "active_calls"), number(gw, "capacity")),
                        ofLimit(number(gw, "cps"), number(gw, "cps_limit")), text(gw, "site"),
                        addressesText(gw),
                        text(gw, "last_error").empty() ? "-" : text(gw, "last_error")});
    }
    printTable({"NAME", "ROLE", "STATE", "PROBING", "CALLS", "CPS", "SITE", "ADDRESSES",
                "LAST_ERROR"},
               rows);
    return 0;
}

void addApiOptions(CLI::App& command, Context& ctx)
{
    command.add_option("--api", ctx.api,
                       std::string("softswitchd's HTTP API, http://HOST:PORT (default ") +
                           kDefaultApi + ")")
        ->envname("SOFTSWITCH_API");
    command.add_option("--token-file", ctx.tokenFile,
                       "File holding the API token (default: SOFTSWITCH_HTTP_TOKEN)");
}

constexpr const char* kApiFooter =
    "Asks the running softswitchd (its HTTP API); configuration commands work without it.\n"
    "Unreachable daemon or refused token: exit 1. The token comes from SOFTSWITCH_HTTP_TOKEN "
    "or\n--token-file, never from the command line.\n\n";

}  // namespace

void addLiveCommands(CLI::App& app, CLI::App& gateway, Context& ctx)
{
    auto* calls = app.add_subcommand("calls", "Live calls of the running switch");
    addApiOptions(*calls, ctx);
    calls->footer(std::string(kApiFooter) +
                  "AGE counts from the INVITE, TALKING from the answer. --json passes the API's "
                  "JSON through,\nwith each call's legs and timers.\n\n"
                  "Examples:\n"
                  "  swctl calls\n"
                  "  swctl calls --json\n"
                  "  SOFTSWITCH_API=http://10.0.0.5:8088 swctl calls --token-file "
                  "/etc/softswitch/api-token");
    calls->callback([&ctx] { ctx.action = [&ctx] { return callsCommand(ctx); }; });

    auto name = std::make_shared<std::string>();
    auto* status = gateway.add_subcommand(
        "status", "Live gateway state: up/blacklisted/probing, active calls, CPS, last error");
    status->add_option("NAME", *name, "Only this gateway");
    addApiOptions(*status, ctx);
    status->footer(std::string(kApiFooter) +
                   "STATE: disabled, unpublished (its PUBLISH heartbeat lapsed), or the health "
                   "of its\naddresses: up, blacklisted (penalty 1 -> 0 over the blacklist time), "
                   "probe_down, or n/m up.\nCALLS and CPS are now/limit (- = no limit).\n\n"
                   "Examples:\n"
                   "  swctl gateway status\n"
                   "  swctl gateway status carrier-a --json");
    status->callback([&ctx, name] {
        ctx.action = [&ctx, name] { return statusCommand(ctx, *name); };
    });
}

}  // namespace ss::swctl
