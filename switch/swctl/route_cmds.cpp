// SPDX-License-Identifier: Apache-2.0
// swctl route add | list | remove

#include "switch/swctl/context.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace ss::swctl {

namespace {

struct AddOptions {
    std::string prefix;
    std::string gateway;
    std::string priority = "100";
    std::string weight = "100";
    std::string siteOrder;
};

// The routes of one prefix share one site order, set by the first route (by id) that names
// one (common/provisioning.h). Say so when the new route's order is not the one in force.
void warnAboutSiteOrder(Context& ctx, const common::RouteConfig& added)
{
    if (added.siteOrder.empty()) {
        return;
    }
    const common::RouteConfig* first = nullptr;
    const auto routes = ctx.store().listRoutes();
    for (const auto& r : routes) {
        if (r.prefix == added.prefix && !r.siteOrder.empty() && (!first || r.id < first->id)) {
            first = &r;
        }
    }
    if (first != nullptr && first->siteOrder != added.siteOrder) {
        std::cerr << "swctl: warning: prefix \"" << added.prefix << "\" keeps site order "
                  << siteOrderText(first->siteOrder) << " from route " << first->id
                  << " (the first route of a prefix that names one sets it)\n";
    }
}

int addCommand(Context& ctx, const AddOptions& o)
{
    common::RouteConfig route;
    route.prefix = parseDigits("--prefix", o.prefix, 32);
    route.gateway = parseName("--gateway", o.gateway);
    route.priority = parseInt("--priority", o.priority, 0, 65535);
    route.weight = parseInt("--weight", o.weight, 1, 65535);
    route.siteOrder = parseSiteOrder("--site-order", o.siteOrder);
    const auto stored = ctx.store().addRoute(route);
    if (ctx.json) {
        printJson(routeJson(stored));
    } else {
        std::cout << "added route " << stored.id << ": " << stored.prefix << " -> "
                  << stored.gateway;
        if (!stored.siteOrder.empty()) {
            std::cout << " (sites " << siteOrderText(stored.siteOrder) << ")";
        }
        std::cout << '\n';
    }
    warnAboutSiteOrder(ctx, stored);
    return 0;
}

int listCommand(Context& ctx)
{
    const auto routes = ctx.store().listRoutes();
    if (ctx.json) {
        auto out = Json::array();
        for (const auto& route : routes) {
            out.push_back(routeJson(route));
        }
        printJson(out);
        return 0;
    }
    std::vector<Row> rows;
    rows.reserve(routes.size());
    for (const auto& r : routes) {
        rows.push_back({std::to_string(r.id), r.prefix.empty() ? "(all)" : r.prefix, r.gateway,
                        std::to_string(r.priority), std::to_string(r.weight),
                        r.siteOrder.empty() ? "-" : siteOrderText(r.siteOrder)});
    }
    printTable({"ID", "PREFIX", "GATEWAY", "PRIORITY", "WEIGHT", "SITE_ORDER"}, rows);
    return 0;
}

int removeCommand(Context& ctx, const std::string& idText)
{
    const auto id = parseId("ID", idText);
    ctx.store().removeRoute(id);
    if (ctx.json) {
        printJson({{"removed", id}});
    } else {
        std::cout << "removed route " << id << '\n';
    }
    return 0;
}

}  // namespace

void addRouteCommands(CLI::App& app, Context& ctx)
{
    auto* route = app.add_subcommand("route", "Routes (prefix -> termination gateway)");
    route->require_subcommand(1);
    route->footer("Examples:\n"
                  "  swctl route add --prefix 49 --gateway carrier-a\n"
                  "  swctl route list\n"
                  "  swctl route remove 12");

    auto o = std::make_shared<AddOptions>();
    auto* add = route->add_subcommand("add", "Add a route");
    add->add_option("--prefix", o->prefix, "Dialled-number prefix (digits; \"\" = all)")
        ->required();
    add->add_option("--gateway", o->gateway, "Termination gateway name")->required();
    add->add_option("--priority", o->priority, "Lower is tried first (0-65535)")
        ->capture_default_str();
    add->add_option("--weight", o->weight, "Share among equal priorities (1-65535)")
        ->capture_default_str();
    add->add_option("--site-order", o->siteOrder,
                    "Sites tried in this order, comma-separated (e.g. east,west); the first "
                    "route of a prefix that names one sets it for the prefix");
    add->footer("The longest matching prefix wins; its routes are tried by priority, and "
                "by weight among equal\npriorities (failover to the next on SPEC §3 "
                "failover-codes).\n\n"
                "Examples:\n"
                "  swctl route add --prefix 49 --gateway carrier-a --priority 10\n"
                "  swctl route add --prefix 49 --gateway carrier-b --priority 20\n"
                "  swctl route add --prefix \"\" --gateway carrier-default   # every number\n"
                "  swctl route add --prefix 44 --gateway carrier-uk --site-order lon,fra");
    add->callback([&ctx, o] { ctx.action = [&ctx, o] { return addCommand(ctx, *o); }; });

    auto* list = route->add_subcommand("list", "List routes");
    list->footer("Examples:\n  swctl route list\n  swctl route list --json");
    list->callback([&ctx] { ctx.action = [&ctx] { return listCommand(ctx); }; });

    auto* remove = route->add_subcommand("remove", "Remove a route");
    auto id = std::make_shared<std::string>();
    remove->add_option("ID", *id, "Route id (swctl route list)")->required();
    remove->footer("Example:\n  swctl route remove 12     # the ID column of swctl route list");
    remove->callback([&ctx, id] { ctx.action = [&ctx, id] { return removeCommand(ctx, *id); }; });
}

}  // namespace ss::swctl
