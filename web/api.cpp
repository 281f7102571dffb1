// SPDX-License-Identifier: Apache-2.0
#include "web/api.h"

#include "cdr/errors.h"
#include "cdr/time_format.h"
#include "common/config_error.h"
#include "common/log.h"
#include "common/params.h"
#include "web/api_internal.h"
#include "web/metrics.h"
#include "web/token.h"
#include "web/url.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>

#include <optional>
#include <regex>
#include <string_view>

namespace ss::web {

namespace {

namespace http = boost::beast::http;
using detail::HttpError;
using detail::invalidField;

constexpr std::string_view kApi = "/api/v1";

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string_view sv(boost::beast::string_view s)
{
    return {s.data(), s.size()};
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

Response makeResponse(const Request& req, http::status status, std::string body,
                      const char* contentType)
{
    Response res{status, req.version()};
    res.set(http::field::server, "softswitch");
    res.set(http::field::content_type, contentType);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response jsonResponse(const Request& req, http::status status, const Json& body)
{
    return makeResponse(req, status, dumpJson(body) + "\n", "application/json; charset=utf-8");
}

HttpError error(http::status status, std::string message)
{
    return HttpError{status, {{"error", std::move(message)}}, ""};
}

// --- authentication ----------------------------------------------------------------------

enum class Auth {
    None,    // no credentials
    Wrong,   // credentials that do not match
    Bearer,  // Authorization: Bearer
    Cookie,  // cookie ss_token (the web page)
};

Auth authenticate(const Request& req, const std::string& token)
{
    bool offered = false;
    if (const auto it = req.find(http::field::authorization); it != req.end()) {
        const std::string_view value = trim(sv(it->value()));
        offered = true;
        if (value.size() > 7 && lower(value.substr(0, 7)) == "bearer ") {
            if (tokenEquals(trim(value.substr(7)), token)) {
                return Auth::Bearer;
            }
        }
    }
    for (auto [it, end] = req.equal_range(http::field::cookie); it != end; ++it) {
        std::string_view rest = sv(it->value());
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            const std::string_view pair = trim(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            const auto eq = pair.find('=');
            if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != "ss_token") {
                continue;
            }
            offered = true;
            std::string_view value = trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            if (tokenEquals(value, token)) {
                return Auth::Cookie;
            }
        }
    }
    return offered ? Auth::Wrong : Auth::None;
}

// A browser sends the cookie on cross-site requests too: a change authorised by the cookie
// alone must come from our own page (Origin, when the browser sends one, names our Host).
void checkSameOrigin(const Request& req)
{
    if (const auto it = req.find("Sec-Fetch-Site"); it != req.end()) {
        const auto site = lower(trim(sv(it->value())));
        if (site != "same-origin" && site != "none") {
            throw error(http::status::forbidden,
                        "cross-site request refused; send Authorization: Bearer TOKEN");
        }
    }
    const auto origin = req.find(http::field::origin);
    if (origin == req.end()) {
        return;
    }
    std::string_view o = trim(sv(origin->value()));
    const auto scheme = o.find("://");
    const std::string_view host = sv(req[http::field::host]);
    if (scheme == std::string_view::npos || lower(o.substr(scheme + 3)) != lower(trim(host))) {
        throw error(http::status::forbidden,
                    "cross-origin request refused; send Authorization: Bearer TOKEN");
    }
}

Response unauthorized(const Request& req, Auth auth)
{
    auto res = jsonResponse(
        req, http::status::unauthorized,
        {{"error", auth == Auth::None
                       ? "a token is required: send Authorization: Bearer TOKEN"
                       : "the token is wrong"}});
    res.set(http::field::www_authenticate,
            auth == Auth::None ? "Bearer realm=\"softswitch\""
                               : "Bearer realm=\"softswitch\", error=\"invalid_token\"");
    return res;
}

// --- endpoints ---------------------------------------------------------------------------

void requireMethod(const Request& req, std::initializer_list<http::verb> allowed)
{
    std::string allow;
    for (const auto verb : allowed) {
        if (req.method() == verb) {
            return;
        }
        allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(verb));
    }
    HttpError e = error(http::status::method_not_allowed,
                        std::string(req.method_string()) + " is not allowed here; use " + allow);
    e.allow = allow;
    throw e;
}

AdminApi& adminOf(const ApiBackend& backend)
{
    if (!backend.admin) {
        throw error(http::status::service_unavailable, "no database is configured");
    }
    return *backend.admin;
}

common::LiveState liveOf(const ApiBackend& backend)
{
    if (!backend.live) {
        throw error(http::status::service_unavailable, "live state is not available");
    }
    try {
        return backend.live();
    } catch (const std::exception& e) {
        throw error(http::status::service_unavailable,
                    std::string("live state unavailable: ") + e.what());
    }
}

Json callsBody(const common::LiveState& state)
{
    auto calls = Json::array();
    for (const auto& c : state.calls) {
        calls.push_back(callJson(c));
    }
    return {{"at", cdr::formatIsoMillis(state.at)}, {"node", state.node}, {"calls", calls}};
}

// The dashboard's figures: what /metrics has, as JSON (the page computes rates from two polls).
Json statusBody(const common::LiveState& state)
{
    std::uint64_t attempts = 0;
    for (const auto& g : state.gateways) {
        attempts += g.attempts;
    }
    const auto& c = state.counters;
    auto reasons = Json::object();
    for (const auto& [reason, calls] : c.endReasons) {
        reasons[reason] = calls;
    }
    return {{"at", cdr::formatIsoMillis(state.at)},
            {"node", state.node},
            {"started_at", cdr::formatIsoMillis(state.startedAt)},
            {"calls_active", state.calls.size()},
            {"cps", c.callsLastSecond},
            {"overloaded", c.overloaded},
            {"sip_receive_wait_ms", c.sipReceiveWaitMs},
            {"counters",
             {{"calls_offered", c.callsOffered},
              {"calls_answered", c.callsAnswered},
              {"calls_ended", c.callsEnded},
              {"calls_shed", c.callsShed},
              {"attempts", attempts},
              {"retransmissions", c.retransmissions},
              {"reloads", c.reloads},
              {"cdr_queue_depth", c.cdrQueueDepth},
              {"cdr_spool_bytes", c.cdrSpoolBytes},
              {"cdr_delivered", c.cdrDelivered},
              {"end_reasons", std::move(reasons)}}}};
}

Json gatewaysBody(const common::LiveState& state)
{
    auto gateways = Json::array();
    for (const auto& g : state.gateways) {
        gateways.push_back(liveGatewayJson(g));
    }
    return {{"at", cdr::formatIsoMillis(state.at)},
            {"node", state.node},
            {"gateways", gateways}};
}

std::string gatewayName(const std::string& text)
{
    static const std::regex kName(R"([A-Za-z0-9_.-]{1,64})");
    if (text.size() > 64 || !std::regex_match(text, kName)) {
        throw invalidField("name", text, "1 to 64 characters from A-Z a-z 0-9 _ . -");
    }
    return text;
}

Json enableBody(AdminApi& admin, const std::string& name, bool enabled)
{
    if (!admin.setGatewayEnabled(gatewayName(name), enabled)) {
        throw HttpError{http::status::not_found,
                        {{"error", "no gateway named " + name}, {"field", "name"},
                         {"value", name}},
                        ""};
    }
    return {{"name", name}, {"enabled", enabled}};
}

const common::ParamSpec& paramSpec(const std::string& name)
{
    const auto* spec = common::findParam(name);
    if (spec == nullptr) {
        throw HttpError{http::status::not_found,
                        {{"error", *common::validateParam(name, "")},
                         {"field", "name"},
                         {"value", name}},
                        ""};
    }
    return *spec;
}

Json paramsBody(AdminApi& admin)
{
    const auto stored = admin.storedParams();
    auto params = Json::array();
    for (const auto& spec : common::paramSpecs()) {
        params.push_back(paramJson(spec, stored));
    }
    auto unknown = Json::array();  // stored rows the switch ignores (DELETE removes them)
    for (const auto& [name, value] : stored) {
        if (common::findParam(name) == nullptr) {
            unknown.push_back({{"name", name}, {"stored", value}});
        }
    }
    return {{"params", std::move(params)}, {"unknown_stored", std::move(unknown)}};
}

// The value of a PUT body {"value": "..."} (a JSON number is taken as its text).
std::string putValue(const Request& req)
{
    const auto body = Json::parse(req.body(), nullptr, false);
    if (body.is_discarded()) {
        throw HttpError{http::status::bad_request,
                        {{"error", "the body is not JSON; send {\"value\": \"...\"}"},
                         {"field", "body"}},
                        ""};
    }
    if (!body.is_object() || body.size() != 1 || !body.contains("value")) {
        throw HttpError{http::status::bad_request,
                        {{"error", "the body must be a JSON object {\"value\": \"...\"}"},
                         {"field", "body"}},
                        ""};
    }
    const auto& v = body["value"];
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_number()) {
        return v.dump();
    }
    throw HttpError{http::status::bad_request,
                    {{"error", "\"value\" must be a string (or a number)"}, {"field", "value"}},
                    ""};
}

Json putParamBody(AdminApi& admin, const std::string& name, const std::string& value)
{
    const auto& spec = paramSpec(name);
    if (const auto problem = common::validateParam(name, value)) {
        throw HttpError{http::status::bad_request,
                        {{"error", *problem},
                         {"field", "value"},
                         {"value", value},
                         {"allowed", spec.allowed}},
                        ""};
    }
    const auto previous = admin.setParam(name, value);
    auto j = paramJson(spec, {{name, common::normalizeParam(name, value)}});
    j["previous"] = previous ? Json(*previous) : Json(nullptr);
    return j;
}

Json deleteParamBody(AdminApi& admin, const std::string& name)
{
    std::optional<std::string> removed;
    try {
        removed = admin.resetParam(name);
    } catch (const cdr::ValidationError&) {
        paramSpec(name);  // neither a parameter nor stored: 404
        throw;
    }
    const auto* spec = common::findParam(name);
    if (spec == nullptr) {
        return {{"name", name}, {"removed", removed ? Json(*removed) : Json(nullptr)}};
    }
    auto j = paramJson(*spec, {});
    j["removed"] = removed ? Json(*removed) : Json(nullptr);
    return j;
}

std::string segmentText(std::string_view raw)
{
    auto decoded = percentDecode(raw, false);
    if (!decoded) {
        throw error(http::status::bad_request, "the path is not validly percent-encoded");
    }
    return *decoded;
}

Response metricsResponse(const Request& req, const ApiBackend& backend)
{
    requireMethod(req, {http::verb::get});
    std::string text = renderMetrics(liveOf(backend));
    if (backend.metricsExtra) {
        try {
            text += backend.metricsExtra();
        } catch (const std::exception& e) {
            common::logger("web")->warn("extra metrics left out: {}", e.what());
        }
    }
    return makeResponse(req, http::status::ok, std::move(text), kMetricsContentType);
}

// --- the web page ------------------------------------------------------------------------

// The page's own scripts and styles only: no inline script or style, nothing from elsewhere.
constexpr const char* kPagePolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// GET / and /ui/FILE: the page's files, without a token (they hold no data; the page asks for
// the token). nullopt: `path` is not the page's.
std::optional<Response> pageResponse(const Request& req, std::string_view path,
                                     const UiFiles& ui)
{
    std::string_view name;
    if (path == "/" || path == "/index.html") {
        name = "index.html";
    } else if (path.substr(0, 4) == "/ui/") {
        name = path.substr(4);
    } else {
        return std::nullopt;
    }
    requireMethod(req, {http::verb::get, http::verb::head});
    auto data = ui.read(name);
    if (!data) {
        throw error(http::status::not_found, "no such file: " + std::string(path));
    }
    auto res = makeResponse(req, http::status::ok, std::move(*data), uiContentType(name));
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy", kPagePolicy);
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
    if (req.method() == http::verb::head) {
        const auto length = res.body().size();
        res.body().clear();
        res.content_length(length);
    }
    return res;
}

// /api/v1/session: the page's login. POST {"token": "..."} sets the token as an HttpOnly,
// SameSite=Strict cookie; DELETE clears it; GET says whether the request is authorised.
Response sessionResponse(const Request& req, const std::string& token)
{
    requireMethod(req, {http::verb::get, http::verb::post, http::verb::delete_});
    if (req.method() == http::verb::get) {
        const Auth auth = authenticate(req, token);
        if (auth == Auth::None || auth == Auth::Wrong) {
            return unauthorized(req, auth);
        }
        return jsonResponse(req, http::status::ok, {{"ok", true}});
    }
    checkSameOrigin(req);
    if (req.method() == http::verb::delete_) {
        auto res = jsonResponse(req, http::status::ok, {{"ok", true}});
        res.set(http::field::set_cookie, "ss_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        return res;
    }
    const auto body = Json::parse(req.body(), nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
        throw HttpError{http::status::bad_request,
                        {{"error", "the body must be a JSON object {\"token\": \"...\"}"},
                         {"field", "body"}},
                        ""};
    }
    if (!tokenEquals(body["token"].get<std::string>(), token)) {
        return unauthorized(req, Auth::Wrong);
    }
    auto res = jsonResponse(req, http::status::ok, {{"ok", true}});
    res.set(http::field::set_cookie, "ss_token=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    return res;
}

// Everything under /api/v1 after the token check. `rest` is the still-encoded path after
// /api/v1.
Json apiBody(const Request& req, const ApiBackend& backend, std::string_view rest,
             const detail::Query& query, common::SysTime now)
{
    using http::verb;
    const auto underPrefix = [&](std::string_view prefix) {
        return rest.size() > prefix.size() && rest.substr(0, prefix.size()) == prefix;
    };
    if (rest == "/calls") {
        requireMethod(req, {verb::get});
        return callsBody(liveOf(backend));
    }
    if (rest == "/gateways") {
        requireMethod(req, {verb::get});
        return gatewaysBody(liveOf(backend));
    }
    if (rest == "/status") {
        requireMethod(req, {verb::get});
        return statusBody(liveOf(backend));
    }
    if (underPrefix("/gateways/")) {
        const auto tail = rest.substr(10);
        const auto slash = tail.find('/');
        const auto action = slash == std::string_view::npos ? "" : tail.substr(slash + 1);
        if (action == "enable" || action == "disable") {
            requireMethod(req, {verb::post});
            return enableBody(adminOf(backend), segmentText(tail.substr(0, slash)),
                              action == "enable");
        }
    } else if (rest == "/params") {
        requireMethod(req, {verb::get});
        return paramsBody(adminOf(backend));
    } else if (underPrefix("/params/") && rest.find('/', 8) == std::string_view::npos) {
        const std::string name = segmentText(rest.substr(8));
        requireMethod(req, {verb::get, verb::put, verb::delete_});
        if (req.method() == verb::get) {
            const auto& spec = paramSpec(name);
            return paramJson(spec, adminOf(backend).storedParams());
        }
        if (req.method() == verb::put) {
            return putParamBody(adminOf(backend), name, putValue(req));
        }
        return deleteParamBody(adminOf(backend), name);
    } else if (rest == "/cdrs") {
        requireMethod(req, {verb::get});
        return detail::cdrQueryBody(adminOf(backend), query, now);
    } else if (underPrefix("/cdrs/")) {
        requireMethod(req, {verb::get});
        // The whole rest is the Call-ID, which may itself hold '/' (RFC 3261 §25.1 word).
        return detail::cdrShowBody(adminOf(backend), segmentText(rest.substr(6)));
    } else if (rest == "/cdr-stats") {
        requireMethod(req, {verb::get});
        return detail::cdrStatsBody(adminOf(backend), query, now);
    }
    throw error(http::status::not_found, "no such resource: " + std::string(kApi) +
                                             std::string(rest));
}

Response route(const Request& req, const ApiBackend& backend, const UiFiles& ui,
               const std::string& token, common::SysTime now)
{
    const auto target = parseTarget(sv(req.target()));
    if (!target) {
        throw error(http::status::bad_request, "the request target is not a valid path");
    }
    const std::string_view path = target->path;
    if (auto page = pageResponse(req, path, ui)) {
        return std::move(*page);
    }
    if (path == "/api/v1/session") {
        return sessionResponse(req, token);
    }
    if (path == "/api/v1/ping") {
        requireMethod(req, {http::verb::get});
        return jsonResponse(req, http::status::ok, {{"ok", true}});
    }
    const Auth auth = authenticate(req, token);
    if (auth == Auth::None || auth == Auth::Wrong) {
        return unauthorized(req, auth);
    }
    if (auth == Auth::Cookie && req.method() != http::verb::get &&
        req.method() != http::verb::head) {
        checkSameOrigin(req);
    }
    if (req.body().size() > kMaxBodyBytes) {
        throw error(http::status::payload_too_large, "the request body is larger than 1 MiB");
    }
    if (path == "/metrics") {
        return metricsResponse(req, backend);
    }
    if (path.substr(0, kApi.size()) != kApi) {
        throw error(http::status::not_found, "no such resource: " + std::string(path));
    }
    return jsonResponse(req, http::status::ok,
                        apiBody(req, backend, path.substr(kApi.size()), target->query, now));
}

}  // namespace

Api::Api(ApiBackend backend, std::string token, const common::Clock& clock)
    : backend_(std::move(backend)), ui_(backend_.uiDir), token_(std::move(token)), clock_(clock)
{
    if (!isValidToken(token_)) {
        throw ConfigError("the HTTP API token is not valid (see web::loadToken)");
    }
}

Response Api::handle(const Request& req) const
{
    auto log = common::logger("web");
    const auto fail = [&](http::status status, Json body) {
        if (static_cast<int>(status) >= 500) {
            log->warn("{} {}: {} {}", loggable(sv(req.method_string())),
                      loggable(sv(req.target())), static_cast<int>(status),
                      loggable(body.value("error", std::string())));
        }
        return jsonResponse(req, status, body);
    };
    try {
        return route(req, backend_, ui_, token_, clock_.systemNow());
    } catch (const HttpError& e) {
        auto res = fail(e.status, e.body);
        if (!e.allow.empty()) {
            res.set(http::field::allow, e.allow);
        }
        return res;
    } catch (const cdr::ValidationError& e) {
        return fail(http::status::bad_request,
                    {{"error", e.what()}, {"field", e.field()}, {"value", e.value()}});
    } catch (const cdr::DbUnavailable& e) {
        return fail(http::status::service_unavailable,
                    {{"error", std::string("database unavailable: ") + e.what()}});
    } catch (const ConfigError& e) {
        return fail(http::status::internal_server_error,
                    {{"error", std::string("database error: ") + e.what()}});
    } catch (const std::exception& e) {
        return fail(http::status::internal_server_error,
                    {{"error", std::string("internal error: ") + e.what()}});
    } catch (...) {
        return fail(http::status::internal_server_error, {{"error", "internal error"}});
    }
}

}  // namespace ss::web
