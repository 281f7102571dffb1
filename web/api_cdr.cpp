// SPDX-License-Identifier: Apache-2.0
// The CDR endpoints: query-string validation as swctl validates its options (same ranges and
// wording, the parameter named as in the URL), then AdminApi.

#include "cdr/cdr_json.h"
#include "cdr/errors.h"
#include "cdr/time_format.h"
#include "web/api_internal.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <regex>

namespace ss::web::detail {

namespace {

using boost::beast::http::status;

// The query parameters an endpoint takes, each at most once; "" counts as not given.
std::map<std::string, std::string> queryParams(const Query& query,
                                               const std::vector<std::string>& allowed)
{
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : query) {
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            std::string names;
            for (const auto& a : allowed) {
                names += (names.empty() ? "" : ", ") + a;
            }
            throw HttpError{status::bad_request,
                            {{"error", "unknown query parameter \"" + name +
                                           "\"; expected one of " + names},
                             {"field", name},
                             {"allowed", names}},
                            ""};
        }
        if (!out.emplace(name, value).second) {
            throw HttpError{status::bad_request,
                            {{"error", "query parameter " + name + " given twice"},
                             {"field", name}},
                            ""};
        }
    }
    for (auto it = out.begin(); it != out.end();) {
        it = it->second.empty() ? out.erase(it) : std::next(it);
    }
    return out;
}

std::optional<std::string> get(const std::map<std::string, std::string>& params,
                               const std::string& name)
{
    const auto it = params.find(name);
    return it == params.end() ? std::nullopt : std::optional(it->second);
}

common::SysTime parseTime(const std::string& field, const std::string& text, common::SysTime now)
{
    const auto t = cdr::parseTimeSpec(text, now);
    if (!t) {
        throw invalidField(field, text, cdr::kTimeSpecAllowed);
    }
    return *t;
}

int parseInt(const std::string& field, const std::string& text, int min, int max)
{
    long long value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value < min || value > max) {
        throw invalidField(field, text,
                           "an integer from " + std::to_string(min) + " to " +
                               std::to_string(max));
    }
    return static_cast<int>(value);
}

std::string parsePrefix(const std::string& field, const std::string& text)
{
    if (text.size() > 128 || text.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
        throw invalidField(field, text, "the start of a number (up to 128 characters)");
    }
    return text;
}

std::string parseMatch(const std::string& field, const std::string& text, const char* pattern,
                       const std::string& allowed)
{
    if (text.size() > 64 || !std::regex_match(text, std::regex(pattern))) {
        throw invalidField(field, text, allowed);
    }
    return text;
}

cdr::EndDirection parseEndDirection(const std::string& text)
{
    if (const auto d = cdr::endDirectionFromWord(text)) {
        return *d;
    }
    throw invalidField("end_direction", text, "caller, callee or switch");
}

cdr::StatsGroup parseStatsGroup(const std::string& text)
{
    if (const auto group = cdr::statsGroupFromWord(text)) {
        return *group;
    }
    throw invalidField("by", text, "gateway, code, reason or end-direction");
}

// A page cursor: "<setup_at in ms since the epoch>_<id>" of the last row of a page.
std::string cursorText(const cdr::CdrRow& row)
{
    return std::to_string(cdr::epochMillis(row.setupAt)) + "_" + std::to_string(row.id);
}

cdr::CdrQuery::Cursor parseCursor(const std::string& text)
{
    static const std::regex kCursor("(-?[0-9]{1,15})_([0-9]{1,18})");
    std::smatch m;
    if (!std::regex_match(text, m, kCursor)) {
        throw invalidField("before", text, "the \"next\" value of the page before");
    }
    return {cdr::fromEpochMillis(std::stoll(m[1].str())), std::stoll(m[2].str())};
}

}  // namespace

HttpError invalidField(const std::string& field, const std::string& value,
                       const std::string& allowed)
{
    return HttpError{status::bad_request,
                     {{"error", cdr::invalidValue(field, value, allowed).what()},
                      {"field", field},
                      {"value", value},
                      {"allowed", allowed}},
                     ""};
}

Json cdrQueryBody(AdminApi& admin, const Query& query, common::SysTime now)
{
    const auto p = queryParams(query, {"since", "until", "caller", "callee", "gateway",
                                       "end_direction", "code", "reason", "limit",
                                       "before"});
    cdr::CdrQuery q;
    if (const auto v = get(p, "since")) {
        q.since = parseTime("since", *v, now);
    }
    if (const auto v = get(p, "until")) {
        q.until = parseTime("until", *v, now);
    }
    q.callerPrefix = parsePrefix("caller", get(p, "caller").value_or(""));
    q.calleePrefix = parsePrefix("callee", get(p, "callee").value_or(""));
    if (const auto v = get(p, "gateway")) {
        q.gateway = parseMatch("gateway", *v, "[A-Za-z0-9_.-]{1,64}",
                               "1 to 64 characters from A-Z a-z 0-9 _ . -");
    }
    if (const auto v = get(p, "end_direction")) {
        q.endDirection = parseEndDirection(*v);
    }
    if (const auto v = get(p, "code")) {
        q.sipCode = parseInt("code", *v, 0, 699);
    }
    if (const auto v = get(p, "reason")) {
        if (!cdr::isReasonWord(*v)) {
            throw invalidField("reason", *v, "an end reason such as no_route or callee_bye");
        }
        q.endReason = *v;
    }
    const int limit = parseInt("limit", get(p, "limit").value_or("100"), 1, 10000);
    if (const auto v = get(p, "before")) {
        q.before = parseCursor(*v);
    }
    q.limit = limit + 1;  // one more than shown: is there an older page?
    const auto found = admin.queryCdrs(q);
    const auto shown = std::min(found.size(), static_cast<std::size_t>(limit));
    auto rows = Json::array();
    for (std::size_t i = 0; i < shown; ++i) {
        rows.push_back(cdr::cdrJson(found[i]));
    }
    const Json next = found.size() > shown ? Json(cursorText(found[shown - 1])) : Json(nullptr);
    return {{"cdrs", std::move(rows)}, {"next", next}};
}

Json cdrShowBody(AdminApi& admin, const std::string& callId)
{
    if (callId.empty() || callId.size() > 1024 ||
        callId.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
        throw invalidField("call_id", callId, "a SIP Call-ID (1 to 1024 characters on one line)");
    }
    const auto calls = admin.findCdrs(callId);
    if (calls.empty()) {
        throw HttpError{status::not_found,
                        {{"error", "no CDR with call id " + callId}, {"call_id", callId}},
                        ""};
    }
    return {{"call_id", callId}, {"cdrs", cdr::cdrDetailsJson(calls)}};
}

Json cdrStatsBody(AdminApi& admin, const Query& query, common::SysTime now)
{
    const auto p = queryParams(query, {"since", "until", "by", "top", "bucket"});
    cdr::CdrStatsQuery q;
    q.since = parseTime("since", get(p, "since").value_or("-24h"), now);
    if (const auto v = get(p, "until")) {
        q.until = parseTime("until", *v, now);
    }
    const std::string by = get(p, "by").value_or("gateway");
    q.by = parseStatsGroup(by);
    q.topFailures = parseInt("top", get(p, "top").value_or("5"), 0, 100);
    const auto bucket = get(p, "bucket");
    if (bucket && *bucket != "hour") {
        throw invalidField("bucket", *bucket, "hour");
    }
    auto report = cdr::statsReportJson(by, q, admin.cdrStats(q));
    if (bucket) {
        // The same figures per UTC hour (the charts): [{start, groups: [...]}], ascending.
        q.hourly = true;
        auto buckets = Json::array();
        for (const auto& row : admin.cdrStats(q)) {
            const auto start = cdr::formatIsoMillis(row.hour.value_or(common::SysTime{}));
            if (buckets.empty() || buckets.back()["start"] != start) {
                buckets.push_back({{"start", start}, {"groups", Json::array()}});
            }
            buckets.back()["groups"].push_back(cdr::statsJson(row));
        }
        report["buckets"] = std::move(buckets);
    }
    return report;
}

}  // namespace ss::web::detail
