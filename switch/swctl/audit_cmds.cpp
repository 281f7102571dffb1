// SPDX-License-Identifier: Apache-2.0
// swctl audit: who changed what (table `audit`, schema/0005).

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

struct AuditOptions {
    std::string since;
    std::string kind;
    std::string name;
    std::string limit = "50";
    std::string format;
};

cdr::AuditQuery toQuery(const AuditOptions& o, common::SysTime now)
{
    cdr::AuditQuery q;
    if (!o.since.empty()) {
        q.since = parseTime("--since", o.since, now);
    }
    if (!o.kind.empty()) {
        if (o.kind != "gateway" && o.kind != "route" && o.kind != "param") {
            throw cdr::invalidValue("--kind", o.kind, "gateway, route or param");
        }
        q.objectKind = o.kind;
    }
    if (!o.name.empty()) {
        q.objectName = parseName("--name", o.name);
    }
    q.limit = parseInt("--limit", o.limit, 1, 1000000);
    return q;
}

Json optionalJson(const std::optional<std::string>& value)
{
    return value ? Json(*value) : Json(nullptr);
}

Json auditJson(const cdr::AuditRow& a)
{
    return {{"id", a.id},
            {"at", cdr::formatIsoMillis(a.at)},
            {"actor", a.actor},
            {"action", a.action},
            {"object_kind", a.objectKind},
            {"object_name", a.objectName},
            {"field", optionalJson(a.field)},
            {"old_value", optionalJson(a.oldValue)},
            {"new_value", optionalJson(a.newValue)}};
}

int auditCommand(Context& ctx, const AuditOptions& o)
{
    const common::SystemClock clock;
    const std::string format = outputFormat(ctx.json, o.format);
    const auto rows = ctx.store().listAudit(toQuery(o, clock.systemNow()));
    if (format == "json") {
        auto out = Json::array();
        for (const auto& a : rows) {
            out.push_back(auditJson(a));
        }
        printJson(out);
        return 0;
    }
    const bool csv = format == "csv";
    // In a table, absent (NULL) shows as "-"; in CSV as an empty field.
    const auto cell = [csv](const std::optional<std::string>& value) {
        return value ? *value : std::string(csv ? "" : "-");
    };
    std::vector<Row> cells;
    cells.reserve(rows.size());
    for (const auto& a : rows) {
        cells.push_back({std::to_string(a.id), cdr::formatIsoMillis(a.at), a.actor, a.action,
                         a.objectKind, a.objectName, cell(a.field), cell(a.oldValue),
                         cell(a.newValue)});
    }
    if (csv) {
        printCsv({"id", "at", "actor", "action", "object_kind", "object_name", "field",
                  "old_value", "new_value"},
                 cells);
        return 0;
    }
    printTable({"ID", "AT", "ACTOR", "ACTION", "KIND", "NAME", "FIELD", "OLD", "NEW"}, cells);
    return 0;
}

}  // namespace

void addAuditCommands(CLI::App& app, Context& ctx)
{
    auto o = std::make_shared<AuditOptions>();
    auto* audit = app.add_subcommand(
        "audit", "Who changed which parameter, gateway or route, and from what to what");
    audit->add_option("--since", o->since, "Changes at or after T (ISO-8601 or -1h, -2d)");
    audit->add_option("--kind", o->kind, "gateway | route | param");
    audit->add_option("--name", o->name, "One object: gateway name, route id or parameter name");
    audit->add_option("--limit", o->limit, "At most N rows, newest first")
        ->capture_default_str();
    audit->add_option("--format", o->format, "table | json | csv (default table)");
    audit->footer(
        "Every change made with swctl (actor swctl:<OS user>) or through the HTTP API is "
        "recorded in\nthe same transaction as the change. A whole gateway or route that was "
        "added or removed has\nno FIELD; its settings are in NEW (added) or OLD (removed) as "
        "JSON. \"-\" is absent: for a\nparameter, the default.\n\n"
        "Examples:\n"
        "  swctl audit --since -1d\n"
        "  swctl audit --kind gateway --name carrier-a\n"
        "  swctl audit --limit 500 --format csv > audit.csv");
    audit->callback([&ctx, o] { ctx.action = [&ctx, o] { return auditCommand(ctx, *o); }; });
}

}  // namespace ss::swctl
