// SPDX-License-Identifier: Apache-2.0
// swctl cdr query

#include "cdr/errors.h"
#include "cdr/time_format.h"
#include "common/clock.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

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

common::SysTime parseTime(const std::string& field, const std::string& text,
                          common::SysTime now)
{
    const auto t = cdr::parseTimeSpec(text, now);
    if (!t) {
        throw cdr::invalidValue(field, text,
                                "an ISO-8601 time (2026-01-31, 2026-01-31T08:00:00Z, "
                                "2026-01-31 08:00+02:00), now, or -N followed by s, m, h, d "
                                "or w (e.g. -30m, -2d)");
    }
    return *t;
}

std::string parseNumberPrefix(const std::string& field, const std::string& text)
{
    if (text.size() > 128 || text.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
        throw cdr::invalidValue(field, text, "the start of a number (up to 128 characters)");
    }
    return text;
}

cdr::EndDirection parseEndDirection(const std::string& text)
{
    for (const auto d :
         {cdr::EndDirection::Caller, cdr::EndDirection::Callee, cdr::EndDirection::Switch}) {
        if (text == cdr::toString(d)) {
            return d;
        }
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

std::string outputFormat(const Context& ctx, const std::string& format)
{
    if (!format.empty() && format != "table" && format != "json" && format != "csv") {
        throw cdr::invalidValue("--format", format, "table, json or csv");
    }
    if (ctx.json && !format.empty() && format != "json") {
        throw cdr::invalidValue("--format", format, "json (or no --format) together with --json");
    }
    if (ctx.json) {
        return "json";
    }
    return format.empty() ? "table" : format;
}

int queryCommand(Context& ctx, const QueryOptions& o)
{
    const common::SystemClock clock;
    const std::string format = outputFormat(ctx, o.format);
    const auto query = toQuery(o, clock.systemNow());
    const auto rows = ctx.store().queryCdrs(query);
    if (format == "json") {
        auto out = Json::array();
        for (const auto& r : rows) {
            out.push_back(cdrJson(r));
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

}  // namespace

void addCdrCommands(CLI::App& app, Context& ctx)
{
    auto* cdrCmd = app.add_subcommand("cdr", "Call detail records");
    cdrCmd->require_subcommand(1);

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
    query->callback([&ctx, o] { ctx.action = [&ctx, o] { return queryCommand(ctx, *o); }; });
}

}  // namespace ss::swctl
