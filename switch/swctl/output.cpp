// SPDX-License-Identifier: Apache-2.0
#include "switch/swctl/output.h"

#include "cdr/errors.h"
#include "cdr/time_format.h"

#include <algorithm>
#include <iostream>

namespace ss::swctl {

namespace {

std::string csvField(const std::string& value)
{
    if (value.find_first_of(",\"\r\n") == std::string::npos) {
        return value;
    }
    std::string out = "\"";
    for (const char c : value) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

void printCsvLine(const Row& cells)
{
    for (std::size_t i = 0; i < cells.size(); ++i) {
        std::cout << (i == 0 ? "" : ",") << csvField(cells[i]);
    }
    std::cout << "\r\n";
}

// Stored times have millisecond precision, so this is exact.
std::int64_t durationMs(const cdr::CdrAttempt& a)
{
    return cdr::epochMillis(a.endedAt) - cdr::epochMillis(a.startedAt);
}

}  // namespace

std::string outputFormat(bool json, const std::string& format)
{
    if (!format.empty() && format != "table" && format != "json" && format != "csv") {
        throw cdr::invalidValue("--format", format, "table, json or csv");
    }
    if (json && !format.empty() && format != "json") {
        throw cdr::invalidValue("--format", format, "json (or no --format) together with --json");
    }
    if (json) {
        return "json";
    }
    return format.empty() ? "table" : format;
}

void printTable(const Row& headers, const std::vector<Row>& rows)
{
    std::vector<std::size_t> widths(headers.size());
    for (std::size_t i = 0; i < headers.size(); ++i) {
        widths[i] = headers[i].size();
        for (const auto& row : rows) {
            widths[i] = std::max(widths[i], row.at(i).size());
        }
    }
    const auto printRow = [&](const Row& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size()) {
                line.append(widths[i] - cells[i].size() + 2, ' ');
            }
        }
        std::cout << line << '\n';
    };
    printRow(headers);
    for (const auto& row : rows) {
        printRow(row);
    }
}

void printCsv(const Row& headers, const std::vector<Row>& rows)
{
    printCsvLine(headers);
    for (const auto& row : rows) {
        printCsvLine(row);
    }
}

void printJson(const Json& value)
{
    std::cout << value.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

Json gatewayJson(const common::GatewayConfig& gw)
{
    Json options = Json::object();
    for (const auto& [key, value] : gw.options) {
        options[key] = value;
    }
    return {{"id", gw.id},
            {"name", gw.name},
            {"role", common::toString(gw.role)},
            {"host", gw.host},
            {"port", gw.port},
            {"transport", common::toString(gw.transport)},
            {"capacity", gw.capacity},
            {"cps", gw.cps},
            {"site", gw.site},
            {"prefix_strip", gw.prefixStrip},
            {"prefix_add", gw.prefixAdd},
            {"enabled", gw.enabled},
            {"options", std::move(options)}};
}

Json routeJson(const common::RouteConfig& route)
{
    return {{"id", route.id},
            {"prefix", route.prefix},
            {"gateway", route.gateway},
            {"priority", route.priority},
            {"weight", route.weight},
            {"site_order", route.siteOrder}};
}

std::string siteOrderText(const std::vector<std::string>& siteOrder)
{
    std::string out;
    for (const auto& site : siteOrder) {
        out += (out.empty() ? "" : ",") + site;
    }
    return out;
}

const Row& cdrColumns()
{
    static const Row kColumns = {
        "id",          "node",        "call_id",      "caller",         "callee",
        "callee_out",  "origin_gateway", "origin_addr", "term_gateway", "term_addr",
        "attempts",    "setup_at",    "ring_at",      "answer_at",      "end_at",
        "pdd_ms",      "hold_ms",     "end_direction", "end_reason",    "disposition",
        "sip_code",    "sip_reason",  "q850_cause"};
    return kColumns;
}

Row cdrCells(const cdr::CdrRow& r)
{
    const auto time = [](const std::optional<common::SysTime>& t) {
        return t ? cdr::formatIsoMillis(*t) : std::string();
    };
    return {std::to_string(r.id),
            r.node,
            r.callId,
            r.caller,
            r.callee,
            r.calleeOut,
            r.originGateway,
            r.originAddr,
            r.termGateway,
            r.termAddr,
            std::to_string(r.attempts),
            cdr::formatIsoMillis(r.setupAt),
            time(r.ringAt),
            time(r.answerAt),
            cdr::formatIsoMillis(r.endAt),
            std::to_string(r.pddMs),
            std::to_string(r.holdMs),
            r.endDirection,
            r.endReason,
            r.disposition,
            std::to_string(r.sipCode),
            r.sipReason,
            std::to_string(r.q850Cause)};
}

const Row& attemptColumns()
{
    static const Row kColumns = {"seq",      "gateway",     "addr",     "transport", "started_at",
                                 "ended_at", "duration_ms", "sip_code", "outcome"};
    return kColumns;
}

Row attemptCells(const cdr::CdrAttempt& a)
{
    return {std::to_string(a.seq),
            a.gateway,
            a.addr,
            a.transport,
            cdr::formatIsoMillis(a.startedAt),
            cdr::formatIsoMillis(a.endedAt),
            std::to_string(durationMs(a)),
            a.sipCode == 0 ? std::string() : std::to_string(a.sipCode),
            a.outcome};
}

}  // namespace ss::swctl
