// SPDX-License-Identifier: Apache-2.0
// swctl gateway add | list | remove

#include "cdr/errors.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

#include <climits>
#include <iostream>

namespace ss::swctl {

namespace {

struct AddOptions {
    std::string name;
    std::string role;
    std::string host;
    std::string transport = "udp";
    std::string capacity = "0";
    std::string cps = "0";
    std::string site;
    std::string prefixStrip = "0";
    std::string prefixAdd;
    std::vector<std::string> opts;
};

// Every value is checked before the database is touched (SPEC §1: nothing is changed).
common::GatewayConfig toGateway(const AddOptions& o)
{
    common::GatewayConfig gw;
    gw.name = parseName("NAME", o.name);
    gw.role = parseRole("--role", o.role);
    const auto hostPort = parseHostPort("--host", o.host);
    gw.host = hostPort.host;
    // An origination gateway without a port matches any source port (0).
    gw.port = static_cast<std::uint16_t>(
        hostPort.port.value_or(gw.role == common::GatewayRole::Origination ? 0 : 5060));
    gw.transport = parseTransport("--transport", o.transport);
    gw.capacity = parseInt("--capacity", o.capacity, 0, INT_MAX);
    gw.cps = parseInt("--cps", o.cps, 0, INT_MAX);
    if (!o.site.empty()) {
        gw.site = parseName("--site", o.site);
    }
    gw.prefixStrip = parseInt("--prefix-strip", o.prefixStrip, 0, 32);
    gw.prefixAdd = parseDigits("--prefix-add", o.prefixAdd, 32);
    for (const auto& text : o.opts) {
        auto [key, value] = parseGatewayOption(text);
        if (!gw.options.emplace(key, value).second) {
            throw cdr::invalidValue("--opt", text, "each KEY at most once");
        }
    }
    return gw;
}

std::string optionsText(const common::GatewayConfig& gw)
{
    std::string out;
    for (const auto& [key, value] : gw.options) {
        if (!out.empty()) {
            out += ' ';
        }
        out += key;
        out += '=';
        out += value;
    }
    return out;
}

int addCommand(Context& ctx, const AddOptions& o)
{
    const auto wanted = toGateway(o);  // validate before connecting: exit 2 even if DB is down
    const auto gw = ctx.store().addGateway(wanted);
    if (ctx.json) {
        printJson(gatewayJson(gw));
    } else {
        std::cout << "added gateway " << gw.name << " (id " << gw.id << ")\n";
    }
    return 0;
}

int listCommand(Context& ctx)
{
    const auto gateways = ctx.store().listGateways();
    if (ctx.json) {
        auto out = Json::array();
        for (const auto& gw : gateways) {
            out.push_back(gatewayJson(gw));
        }
        printJson(out);
        return 0;
    }
    std::vector<Row> rows;
    rows.reserve(gateways.size());
    for (const auto& gw : gateways) {
        rows.push_back({std::to_string(gw.id), gw.name, common::toString(gw.role), gw.host,
                        gw.port == 0 ? "any" : std::to_string(gw.port),
                        common::toString(gw.transport), std::to_string(gw.capacity),
                        std::to_string(gw.cps), gw.site, std::to_string(gw.prefixStrip),
                        gw.prefixAdd, gw.enabled ? "yes" : "no", optionsText(gw)});
    }
    printTable({"ID", "NAME", "ROLE", "HOST", "PORT", "TRANSPORT", "CAPACITY", "CPS", "SITE",
                "STRIP", "ADD", "ENABLED", "OPTIONS"},
               rows);
    return 0;
}

int removeCommand(Context& ctx, const std::string& nameText)
{
    const std::string name = parseName("NAME", nameText);
    ctx.store().removeGateway(name);
    if (ctx.json) {
        printJson({{"removed", name}});
    } else {
        std::cout << "removed gateway " << name << '\n';
    }
    return 0;
}

void addAdd(CLI::App& gateway, Context& ctx)
{
    auto o = std::make_shared<AddOptions>();
    auto* add = gateway.add_subcommand("add", "Add a gateway");
    add->add_option("NAME", o->name, "Gateway name ([A-Za-z0-9_.-], up to 64)")->required();
    add->add_option("--role", o->role, "origination | termination")->required();
    add->add_option("--host", o->host, "HOST[:PORT]; termination default port 5060, "
                                       "origination default any port")
        ->required();
    add->add_option("--transport", o->transport, "udp | tcp")->capture_default_str();
    add->add_option("--capacity", o->capacity, "Concurrent calls, 0 = unlimited")
        ->capture_default_str();
    add->add_option("--cps", o->cps, "Calls per second, 0 = unlimited")->capture_default_str();
    add->add_option("--site", o->site, "Site name");
    add->add_option("--prefix-strip", o->prefixStrip, "Leading digits to strip (0-32)")
        ->capture_default_str();
    add->add_option("--prefix-add", o->prefixAdd, "Digits to prepend");
    // One KEY=VALUE per --opt (repeat the flag for more); without allow_extra_args(false) a
    // vector option swallows the words after it, NAME included.
    add->add_option("--opt", o->opts, "Per-gateway option KEY=VALUE (SPEC §3); repeat --opt "
                                      "for each")
        ->allow_extra_args(false);
    add->callback([&ctx, o] { ctx.action = [&ctx, o] { return addCommand(ctx, *o); }; });
}

}  // namespace

void addGatewayCommands(CLI::App& app, Context& ctx)
{
    auto* gateway = app.add_subcommand("gateway", "Gateways");
    gateway->require_subcommand(1);
    addAdd(*gateway, ctx);

    auto* list = gateway->add_subcommand("list", "List gateways");
    list->callback([&ctx] { ctx.action = [&ctx] { return listCommand(ctx); }; });

    auto* remove = gateway->add_subcommand("remove", "Remove a gateway no route uses");
    auto name = std::make_shared<std::string>();
    remove->add_option("NAME", *name, "Gateway name")->required();
    remove->callback([&ctx, name] {
        ctx.action = [&ctx, name] { return removeCommand(ctx, *name); };
    });
}

}  // namespace ss::swctl
