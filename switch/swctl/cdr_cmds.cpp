// SPDX-License-Identifier: Apache-2.0
// swctl cdr query | show | stats

#include "cdr/cdr_json.h"
#include "cdr/errors.h"
#include "cdr/time_format.h"
#include "common/clock.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

namespace ss::swctl {

namespace {

struct QueryOptions {
    std::string since;
    std::string until;
    std::string caller;
    std::string callee;
    std::string gateway;
    std::string endDirection;
    std::string code;
    std::string reason;
    std::string limit = "100";
    std::string format;
};

struct ShowOptions {
    std::string callId;
    std::string format;
};

struct StatsOptions {
    std::string since = "-24h";
    std::string until;
    std::string by = "gateway";
    std::string top = "5";
    std::string format;
};

std::string parseNumberPrefix(const std::string& field, const std::string& text)
{
    if (text.size() > 128 || text.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
        throw cdr::invalidValue(field, text, "the start of a number (up to 128 characters)");
    }
    return text;
}

cdr::EndDirection parseEndDirection(const std::string& text)
{
    if (const auto d = cdr::endDirectionFromWord(text)) {
        return *d;
    }
    throw cdr::invalidValue("--end-direction", text, "caller, callee or switch");
}

cdr::CdrQuery toQuery(const QueryOptions& o, common::SysTime now)
{
    cdr::CdrQuery q;
    if (!o.since.empty()) {
        q.since = parseTime("--since", o.since, now);
    }
    if (!o.until.empty()) {
        q.until = parseTime("--until", o.until, now);
    }
    q.callerPrefix = parseNumberPrefix("--caller", o.caller);
    q.calleePrefix = parseNumberPrefix("--callee", o.callee);
    if (!o.gateway.empty()) {
        q.gateway = parseName("--gateway", o.gateway);
    }
    if (!o.endDirection.empty()) {
        q.endDirection = parseEndDirection(o.endDirection);
    }
    if (!o.code.empty()) {
        q.sipCode = parseInt("--code", o.code, 0, 699);
    }
    if (!o.reason.empty()) {
        q.endReason = parseReason("--reason", o.reason);
    }
    q.limit = parseInt("--limit", o.limit, 1, 1000000);
    return q;
}

int queryCommand(Context& ctx, const QueryOptions& o)
{
    const common::SystemClock clock;
    const std::string format = outputFormat(ctx.json, o.format);
    const auto query = toQuery(o, clock.systemNow());
    const auto rows = ctx.store().queryCdrs(query);
    if (format == "json") {
        auto out = Json::array();
        for (const auto& r : rows) {
            out.push_back(cdr::cdrJson(r));
        }
        printJson(out);
        return 0;
    }
    if (format == "csv") {
        std::vector<Row> cells;
        cells.reserve(rows.size());
        for (const auto& r : rows) {
            cells.push_back(cdrCells(r));
        }
        printCsv(cdrColumns(), cells);
        return 0;
    }
    std::vector<Row> cells;
    cells.reserve(rows.size());
    for (const auto& r : rows) {
        cells.push_back({cdr::formatIsoMillis(r.setupAt), r.callId, r.caller, r.callee,
                         r.originGateway, r.termGateway, std::to_string(r.attempts),
                         std::to_string(r.sipCode), r.endDirection, r.endReason,
                         std::to_string(r.pddMs), std::to_string(r.holdMs)});
    }
    printTable({"SETUP_AT", "CALL_ID", "CALLER", "CALLEE", "ORIGIN", "TERM", "ATTEMPTS", "CODE",
                "END_DIRECTION", "END_REASON", "PDD_MS", "HOLD_MS"},
               cells);
    return 0;
}

std::string parseCallId(const std::string& text)
{
    if (text.empty() || text.size() > 1024 ||
        text.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
        throw cdr::invalidValue("CALL_ID", text,
                                "a SIP Call-ID (1 to 1024 characters on one line)");
    }
    return text;
}

// One call for people: the cdr row as "field: value" lines, then its failover chain.
void printCallTable(const cdr::CdrDetail& call)
{
    const auto& names = cdrColumns();
    const auto values = cdrCells(call.cdr);
    std::size_t width = 0;
    for (const auto& name : names) {
        width = std::max(width, name.size());
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::string line = names[i] + ":";
        if (!values[i].empty()) {
            line.append(width - names[i].size() + 1, ' ');
            line += values[i];
        }
        std::cout << line << '\n';
    }
    std::cout << '\n';
    if (call.attempts.empty()) {
        std::cout << "no attempts (no gateway was tried)\n";
        return;
    }
    Row headers;
    for (const auto& column : attemptColumns()) {
        std::string header = column;
        std::transform(header.begin(), header.end(), header.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        headers.push_back(header);
    }
    std::vector<Row> rows;
    for (const auto& a : call.attempts) {
        rows.push_back(attemptCells(a));
    }
    printTable(headers, rows);
}

int showCommand(Context& ctx, const ShowOptions& o)
{
    const std::string format = outputFormat(ctx.json, o.format);
    const std::string callId = parseCallId(o.callId);
    const auto calls = ctx.store().findCdrs(callId);
    if (calls.empty()) {
        // Operational, not usage: the id is well formed, the database just has no such call.
        std::cerr << "swctl: no CDR with call id " << callId << '\n';
        return 1;
    }
    if (format == "json") {
        printJson(cdr::cdrDetailsJson(calls));
        return 0;
    }
    if (format == "csv") {
        // Flat for scripts: one line per attempt, the call's columns repeated on each
        // (a call without attempts gets one line with the attempt columns empty).
        Row headers = cdrColumns();
        for (const auto& column : attemptColumns()) {
            headers.push_back("attempt_" + column);
        }
        std::vector<Row> rows;
        for (const auto& call : calls) {
            const Row cells = cdrCells(call.cdr);
            if (call.attempts.empty()) {
                Row row = cells;
                row.resize(headers.size());
                rows.push_back(std::move(row));
            }
            for (const auto& a : call.attempts) {
                Row row = cells;
                const Row attempt = attemptCells(a);
                row.insert(row.end(), attempt.begin(), attempt.end());
                rows.push_back(std::move(row));
            }
        }
        printCsv(headers, rows);
        return 0;
    }
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (i > 0) {
            std::cout << '\n';
        }
        printCallTable(calls[i]);
    }
    return 0;
}

cdr::StatsGroup parseStatsGroup(const std::string& text)
{
    if (const auto group = cdr::statsGroupFromWord(text)) {
        return *group;
    }
    throw cdr::invalidValue("--by", text, "gateway, code, reason or end-direction");
}

std::string fixed(double value, int decimals)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string optionalCell(const std::optional<std::int64_t>& value)
{
    return value ? std::to_string(*value) : std::string("-");
}

// `reason/code:count` pairs, most frequent first.
std::string failureText(const std::vector<cdr::FailureCount>& failures, const char* separator)
{
    std::string out;
    for (const auto& f : failures) {
        out += (out.empty() ? "" : separator) + f.endReason + "/" + std::to_string(f.sipCode) +
               ":" + std::to_string(f.calls);
    }
    return out;
}

int statsCommand(Context& ctx, const StatsOptions& o)
{
    const common::SystemClock clock;
    const auto now = clock.systemNow();
    const std::string format = outputFormat(ctx.json, o.format);
    cdr::CdrStatsQuery query;
    query.since = parseTime("--since", o.since, now);
    if (!o.until.empty()) {
        query.until = parseTime("--until", o.until, now);
    }
    query.by = parseStatsGroup(o.by);
    query.topFailures = parseInt("--top", o.top, 0, 100);
    const auto rows = ctx.store().cdrStats(query);
    if (format == "json") {
        printJson(cdr::statsReportJson(o.by, query, rows));
        return 0;
    }
    std::vector<Row> cells;
    for (const auto& r : rows) {
        const auto acd = r.acdSeconds();
        const bool csv = format == "csv";
        cells.push_back({r.group, std::to_string(r.calls), std::to_string(r.answered),
                         csv ? fixed(r.asr(), 4) : fixed(r.asr() * 100, 1) + "%",
                         acd ? fixed(*acd, 1) : (csv ? "" : "-"),
                         csv ? fixed(r.ner(), 4) : fixed(r.ner() * 100, 1) + "%",
                         csv && !r.pddP50Ms ? "" : optionalCell(r.pddP50Ms),
                         csv && !r.pddP95Ms ? "" : optionalCell(r.pddP95Ms),
                         failureText(r.failures, csv ? ";" : ", ")});
    }
    if (format == "csv") {
        printCsv({"group", "calls", "answered", "asr", "acd_s", "ner", "pdd_p50_ms", "pdd_p95_ms",
                  "failures"},
                 cells);
        return 0;
    }
    std::string group = o.by;
    std::transform(group.begin(), group.end(), group.begin(), [](unsigned char c) {
        return c == '-' ? '_' : static_cast<char>(std::toupper(c));
    });
    printTable({group, "CALLS", "ANSWERED", "ASR", "ACD_S", "NER", "PDD_P50_MS", "PDD_P95_MS",
                "FAILURES"},
               cells);
    return 0;
}

}  // namespace

void addCdrCommands(CLI::App& app, Context& ctx)
{
    auto* cdrCmd = app.add_subcommand("cdr", "Call detail records");
    cdrCmd->require_subcommand(1);
    cdrCmd->footer("Examples:\n"
                   "  swctl cdr query --since -1h\n"
                   "  swctl cdr show 3848276298@10.0.0.1\n"
                   "  swctl cdr stats --since -1d --by gateway");

    auto o = std::make_shared<QueryOptions>();
    auto* query = cdrCmd->add_subcommand("query", "Search CDRs, newest first");
    query->add_option("--since", o->since, "Calls set up at or after T (ISO-8601 or -1h, -2d)");
    query->add_option("--until", o->until, "Calls set up before T");
    query->add_option("--caller", o->caller, "Caller starts with P");
    query->add_option("--callee", o->callee, "Callee starts with P");
    query->add_option("--gateway", o->gateway, "Origination or termination gateway NAME");
    query->add_option("--end-direction", o->endDirection, "caller | callee | switch");
    query->add_option("--code", o->code, "Final SIP code");
    query->add_option("--reason", o->reason, "End reason (SPEC §4)");
    query->add_option("--limit", o->limit, "At most N rows")->capture_default_str();
    query->add_option("--format", o->format, "table | json | csv (default table)");
    query->footer("Times: ISO-8601 (2026-01-31, 2026-01-31T08:00:00Z, 2026-01-31 08:00+02:00), "
                  "now, or -N with\ns, m, h, d or w (-30m, -2d). --format csv writes every SPEC "
                  "§4 column.\n\n"
                  "Examples:\n"
                  "  swctl cdr query --since -1h --gateway carrier-a\n"
                  "  swctl cdr query --since 2026-01-31 --until 2026-02-01 --reason no_route\n"
                  "  swctl cdr query --callee 4930 --code 503 --limit 20 --format json\n"
                  "  swctl cdr query --since -1d --format csv > today.csv");
    query->callback([&ctx, o] { ctx.action = [&ctx, o] { return queryCommand(ctx, *o); }; });

    auto so = std::make_shared<ShowOptions>();
    auto* show = cdrCmd->add_subcommand(
        "show", "One call and its failover chain, attempt by attempt (every node's CDR of it)");
    show->add_option("CALL_ID", so->callId, "The caller's (A-leg) SIP Call-ID")->required();
    show->add_option("--format", so->format, "table | json | csv (default table)");
    show->footer("Examples:\n"
                 "  swctl cdr show 3848276298@10.0.0.1\n"
                 "  swctl cdr show 3848276298@10.0.0.1 --format json");
    show->callback([&ctx, so] {
        ctx.action = [&ctx, so] { return showCommand(ctx, *so); };
    });

    auto st = std::make_shared<StatsOptions>();
    auto* stats = cdrCmd->add_subcommand(
        "stats",
        "Per group of calls set up in [--since, --until): CALLS (the attempts of ASR), "
        "ANSWERED, ASR = answered / calls, ACD = mean hold time of the answered calls (s), "
        "NER = (answered + calls ended by the users' side: end_reason caller_cancel or "
        "timeout_ringing, or callee_rejected with SIP 480, 486, 487, 600 or 603) / calls, "
        "PDD p50/p95 = percentile_disc of pdd_ms over the calls that rang or were answered, "
        "and the most frequent end_reason/sip_code pairs of the unanswered calls");
    stats->add_option("--since", st->since, "Calls set up at or after T (ISO-8601 or -1h, -2d)")
        ->capture_default_str();
    stats->add_option("--until", st->until, "Calls set up before T (default: no end)");
    stats->add_option("--by", st->by,
                      "gateway (termination gateway; none: -) | code | reason | end-direction")
        ->capture_default_str();
    stats->add_option("--top", st->top, "Failure pairs listed per group, 0-100")
        ->capture_default_str();
    stats->add_option("--format", st->format, "table | json | csv (default table)");
    stats->footer("Examples:\n"
                  "  swctl cdr stats                       # the last 24 hours by gateway\n"
                  "  swctl cdr stats --since -1h --by reason\n"
                  "  swctl cdr stats --since 2026-01-01 --until 2026-02-01 --by code "
                  "--format csv");
    stats->callback([&ctx, st] {
        ctx.action = [&ctx, st] { return statsCommand(ctx, *st); };
    });
}

}  // namespace ss::swctl
