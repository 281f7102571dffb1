// SPDX-License-Identifier: Apache-2.0
// swctl gateway add | list | show | set | enable | disable | remove (`gateway status` is live,
// in live_cmds.cpp)

#include "cdr/errors.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <climits>
#include <iostream>
#include <optional>

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

// A gateway's settings as `gateway show` prints them and `gateway set` compares them: the keys
// `gateway set` takes (plus role and enabled), options by their SPEC §3 key.
std::vector<std::pair<std::string, std::string>> gatewayFields(const common::GatewayConfig& gw)
{
    std::vector<std::pair<std::string, std::string>> out = {
        {"role", common::toString(gw.role)},
        {"host", gw.host},
        {"port", std::to_string(gw.port)},
        {"transport", common::toString(gw.transport)},
        {"capacity", std::to_string(gw.capacity)},
        {"cps", std::to_string(gw.cps)},
        {"site", gw.site},
        {"prefix-strip", std::to_string(gw.prefixStrip)},
        {"prefix-add", gw.prefixAdd},
        {"enabled", gw.enabled ? "yes" : "no"},
    };
    for (const auto& [key, value] : gw.options) {
        out.emplace_back(key, value);
    }
    return out;
}

std::optional<std::string> fieldOf(const common::GatewayConfig& gw, const std::string& key)
{
    for (auto& [name, value] : gatewayFields(gw)) {
        if (name == key) {
            return value;
        }
    }
    return std::nullopt;
}

const common::GatewayConfig& requireGateway(const std::optional<common::GatewayConfig>& gw,
                                            const std::string& name)
{
    if (!gw) {
        throw cdr::invalidValue("NAME", name,
                                "the name of an existing gateway (swctl gateway list)");
    }
    return *gw;
}

std::string unlimited(int value)
{
    return value == 0 ? "0 (unlimited)" : std::to_string(value);
}

int showCommand(Context& ctx, const std::string& nameText)
{
    const std::string name = parseName("NAME", nameText);
    const auto gw = requireGateway(ctx.store().findGateway(name), name);
    std::vector<common::RouteConfig> routes;
    for (auto& route : ctx.store().listRoutes()) {
        if (route.gateway == name) {
            routes.push_back(std::move(route));
        }
    }
    if (ctx.json) {
        auto j = gatewayJson(gw);
        auto list = Json::array();
        for (const auto& route : routes) {
            list.push_back(routeJson(route));
        }
        j["routes"] = std::move(list);
        printJson(j);
        return 0;
    }
    std::vector<std::pair<std::string, std::string>> lines = {{"name", gw.name},
                                                              {"id", std::to_string(gw.id)}};
    for (auto& [key, value] : gatewayFields(gw)) {
        if (key == "port" && gw.port == 0) {
            value = "any";
        } else if (key == "capacity") {
            value = unlimited(gw.capacity);
        } else if (key == "cps") {
            value = unlimited(gw.cps);
        }
        lines.emplace_back(gw.options.count(key) != 0 ? "option " + key : key, value);
    }
    std::string routeText;
    for (const auto& r : routes) {
        routeText += (routeText.empty() ? "" : ", ") + std::to_string(r.id) + " (prefix " +
                     (r.prefix.empty() ? "(all)" : r.prefix) + ", priority " +
                     std::to_string(r.priority) + ", weight " + std::to_string(r.weight) + ")";
    }
    lines.emplace_back("routes", routeText.empty() ? "none" : routeText);
    std::size_t width = 0;
    for (const auto& line : lines) {
        width = std::max(width, line.first.size());
    }
    for (const auto& [key, value] : lines) {
        std::cout << key << ':' << std::string(width - key.size() + 1, ' ') << value << '\n';
    }
    return 0;
}

struct SetOptions {
    std::string name;
    std::vector<std::string> changes;
};

int setCommand(Context& ctx, const SetOptions& o)
{
    // Every pair is checked before the database is touched: one bad pair, nothing written.
    const std::string name = parseName("NAME", o.name);
    const auto changes = parseGatewayChanges(o.changes);
    const auto before = requireGateway(ctx.store().findGateway(name), name);
    const auto after = ctx.store().setGateway(name, changes);
    // What changed, field by field in `gateway show` order (options that appeared or went
    // away included).
    std::vector<std::string> keys;
    for (const auto* gw : {&after, &before}) {
        for (const auto& field : gatewayFields(*gw)) {
            if (std::find(keys.begin(), keys.end(), field.first) == keys.end()) {
                keys.push_back(field.first);
            }
        }
    }
    auto changed = Json::array();
    std::string text;
    for (const auto& key : keys) {
        const auto was = fieldOf(before, key);
        const auto now = fieldOf(after, key);
        if (was != now) {
            changed.push_back({{"field", key},
                               {"old", was ? Json(*was) : Json(nullptr)},
                               {"new", now ? Json(*now) : Json(nullptr)}});
            text += "  " + key + ": " + (was ? "\"" + *was + "\"" : "(unset)") + " -> " +
                    (now ? "\"" + *now + "\"" : "(unset)") + "\n";
        }
    }
    if (ctx.json) {
        auto j = gatewayJson(after);
        j["changed"] = std::move(changed);
        printJson(j);
    } else if (text.empty()) {
        std::cout << "gateway " << name << " unchanged\n";
    } else {
        std::cout << "changed gateway " << name << ":\n" << text;
    }
    return 0;
}

int enableCommand(Context& ctx, const std::string& nameText, bool enabled)
{
    const std::string name = parseName("NAME", nameText);
    ctx.store().setGatewayEnabled(name, enabled);
    if (ctx.json) {
        printJson({{"name", name}, {"enabled", enabled}});
    } else {
        std::cout << "gateway " << name << (enabled ? " enabled" : " disabled") << '\n';
    }
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

std::string joinedKeys(const std::vector<std::string>& keys)
{
    std::string out;
    for (const auto& key : keys) {
        out += (out.empty() ? "" : ", ") + key;
    }
    return out;
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
    add->footer(
        "Every value is checked before anything is written; a refused value exits 2 naming "
        "the field.\n"
        "Options (--opt): " + joinedKeys(gatewayOptionKeys()) + " (SPEC §3).\n\n"
        "Examples:\n"
        "  swctl gateway add carrier-a --role termination --host 198.51.100.7 --cps 20\n"
        "  swctl gateway add carrier-b --role termination --host sbc.example.net:5080 "
        "--transport tcp \\\n"
        "      --opt retrydest-on-conerr=198.51.100.8 --opt connerr-max-retries=3\n"
        "  swctl gateway add pbx-1 --role origination --host 203.0.113.10 --capacity 60");
    add->callback([&ctx, o] { ctx.action = [&ctx, o] { return addCommand(ctx, *o); }; });
}

// `gateway show|enable|disable|remove NAME`: one positional NAME and an action on it.
void addNameCommand(CLI::App& gateway, Context& ctx, const std::string& command,
                    const std::string& description, const std::string& footer,
                    int (*run)(Context&, const std::string&))
{
    auto name = std::make_shared<std::string>();
    auto* sub = gateway.add_subcommand(command, description);
    sub->add_option("NAME", *name, "Gateway name")->required();
    sub->footer(footer);
    sub->callback([&ctx, name, run] {
        ctx.action = [&ctx, name, run] { return run(ctx, *name); };
    });
}

void addSet(CLI::App& gateway, Context& ctx)
{
    auto o = std::make_shared<SetOptions>();
    auto* set = gateway.add_subcommand(
        "set", "Change settings of a gateway: all KEY=VALUE pairs or none (one transaction)");
    set->add_option("NAME", o->name, "Gateway name")->required();
    set->add_option("KEY=VALUE", o->changes, "Settings to change")->required();
    set->footer(
        "Keys: " + joinedKeys(gatewaySetKeys()) +
        ".\n"
        "Values are checked as `gateway add` checks them (host as --host, an option as --opt).\n"
        "host=HOST without :PORT gives the role's default port (termination 5060, origination "
        "any).\n"
        "site= and prefix-add= clear the value; an option key with nothing after = removes the "
        "option,\nso its default applies again. One refused pair: exit 2 and nothing is "
        "changed.\n"
        "The running switch picks the change up within a second; calls in progress are not "
        "touched.\n\n"
        "Examples:\n"
        "  swctl gateway set carrier-a capacity=120 cps=30\n"
        "  swctl gateway set carrier-a host=198.51.100.9:5070 transport=tcp\n"
        "  swctl gateway set carrier-a failover-codes=408,480,503 options-ping=30\n"
        "  swctl gateway set carrier-a retrydest-on-conerr=      # remove the option");
    set->callback([&ctx, o] { ctx.action = [&ctx, o] { return setCommand(ctx, *o); }; });
}

}  // namespace

void addGatewayCommands(CLI::App& app, Context& ctx)
{
    auto* gateway = app.add_subcommand("gateway", "Gateways (configuration; `status` is live)");
    gateway->require_subcommand(1);
    gateway->footer("Examples:\n"
                    "  swctl gateway list\n"
                    "  swctl gateway show carrier-a\n"
                    "  swctl gateway set carrier-a cps=30\n"
                    "  swctl gateway disable carrier-a\n"
                    "  swctl gateway status");
    addAdd(*gateway, ctx);

    auto* list = gateway->add_subcommand("list", "List gateways");
    list->footer("Examples:\n  swctl gateway list\n  swctl gateway list --json");
    list->callback([&ctx] { ctx.action = [&ctx] { return listCommand(ctx); }; });

    addNameCommand(*gateway, ctx, "show", "Every setting of one gateway and the routes using it",
                   "Examples:\n  swctl gateway show carrier-a\n"
                   "  swctl gateway show carrier-a --json",
                   showCommand);
    addSet(*gateway, ctx);
    addNameCommand(
        *gateway, ctx, "enable", "Enable a gateway (tried for calls, accepted as an origin)",
        "The running switch picks the change up within a second.\n\n"
        "Example:\n  swctl gateway enable carrier-a",
        [](Context& c, const std::string& name) { return enableCommand(c, name, true); });
    addNameCommand(
        *gateway, ctx, "disable",
        "Disable a gateway: no new call is sent to it (or accepted from it); calls in progress "
        "go on",
        "The running switch picks the change up within a second. The gateway and its routes "
        "stay;\n`swctl gateway enable` undoes it.\n\n"
        "Example:\n  swctl gateway disable carrier-a",
        [](Context& c, const std::string& name) { return enableCommand(c, name, false); });
    addNameCommand(*gateway, ctx, "remove", "Remove a gateway no route uses",
                   "Remove its routes first (swctl route list; swctl route remove ID), or "
                   "disable it instead.\n\n"
                   "Example:\n  swctl gateway remove carrier-old",
                   removeCommand);
}

}  // namespace ss::swctl
