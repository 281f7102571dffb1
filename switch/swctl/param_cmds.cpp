// SPDX-License-Identifier: Apache-2.0
// swctl param list | get | set | reset (SPEC §2). Names, defaults and allowed values come from
// the one registry, common/params.h; the table `param` holds only values that were set.

#include "cdr/errors.h"
#include "common/params.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <optional>

namespace ss::swctl {

namespace {

/// One parameter as the switch sees it: the stored value when valid, else the default.
struct ParamView {
    const common::ParamSpec* spec;
    std::string value;                  // in effect
    std::optional<std::string> stored;  // the row in `param`, if any
    std::string error;                  // why a stored value is not used ("" when it is)
    bool changed = false;               // value differs from the default
};

ParamView viewOf(const common::ParamSpec& spec, const std::map<std::string, std::string>& stored)
{
    ParamView v{&spec, spec.defaultValue, std::nullopt, "", false};
    const auto it = stored.find(spec.name);
    if (it == stored.end()) {
        return v;
    }
    v.stored = it->second;
    if (auto error = common::validateParam(spec.name, it->second)) {
        v.error = *error;  // the switch falls back to the default (SwitchParams::fromStored)
        return v;
    }
    v.value = common::normalizeParam(spec.name, it->second);
    v.changed = v.value != common::normalizeParam(spec.name, spec.defaultValue);
    return v;
}

const common::ParamSpec& specOf(const std::string& name)
{
    const common::ParamSpec* spec = common::findParam(name);
    if (spec == nullptr) {
        throw cdr::ValidationError("NAME", name, *common::validateParam(name, ""));
    }
    return *spec;
}

Json toJson(const ParamView& v)
{
    Json j = {{"name", v.spec->name},
              {"value", v.value},
              {"default", v.spec->defaultValue},
              {"allowed", v.spec->allowed},
              {"changed", v.changed},
              {"stored", v.stored ? Json(*v.stored) : Json(nullptr)},
              {"meaning", v.spec->meaning}};
    if (!v.error.empty()) {
        j["error"] = v.error;
    }
    return j;
}

// Stored values the switch ignores are worth an operator's attention, on stderr so that
// stdout (table or JSON) stays what scripts parse.
void warnAboutIgnored(const std::vector<ParamView>& views,
                      const std::map<std::string, std::string>& stored)
{
    for (const auto& v : views) {
        if (!v.error.empty()) {
            std::cerr << "swctl: warning: stored " << v.error << "; the switch uses the default "
                      << v.spec->defaultValue << " (swctl param set|reset " << v.spec->name
                      << ")\n";
        }
    }
    for (const auto& [name, value] : stored) {
        if (common::findParam(name) == nullptr) {
            std::cerr << "swctl: warning: stored parameter " << name << " = \"" << value
                      << "\" is unknown and ignored (swctl param reset " << name
                      << " removes it)\n";
        }
    }
}

int listCommand(Context& ctx)
{
    const auto stored = ctx.store().storedParams();
    std::vector<ParamView> views;
    for (const auto& spec : common::paramSpecs()) {
        views.push_back(viewOf(spec, stored));
    }
    warnAboutIgnored(views, stored);
    if (ctx.json) {
        auto out = Json::array();
        for (const auto& v : views) {
            out.push_back(toJson(v));
        }
        printJson(out);
        return 0;
    }
    std::vector<Row> rows;
    rows.reserve(views.size());
    for (const auto& v : views) {
        rows.push_back({v.spec->name, v.value, v.spec->defaultValue,
                        !v.error.empty() ? "invalid" : (v.changed ? "yes" : "no"),
                        v.spec->allowed});
    }
    printTable({"NAME", "VALUE", "DEFAULT", "CHANGED", "ALLOWED"}, rows);
    return 0;
}

int getCommand(Context& ctx, const std::string& name)
{
    const auto& spec = specOf(name);
    const auto stored = ctx.store().storedParams();
    const auto view = viewOf(spec, stored);
    warnAboutIgnored({view}, {});
    if (ctx.json) {
        printJson(toJson(view));
    } else {
        std::cout << view.value << '\n';  // just the value, for $(swctl param get NAME)
    }
    return 0;
}

int setCommand(Context& ctx, const std::string& name, const std::string& value)
{
    // Validate before connecting: a bad value is exit 2 even when the database is down.
    if (const auto error = common::validateParam(name, value)) {
        throw cdr::ValidationError(common::findParam(name) == nullptr ? "NAME" : "VALUE", value,
                                   *error);
    }
    const auto& spec = specOf(name);
    const auto previous = ctx.store().setParam(name, value);
    const auto view = viewOf(spec, {{name, common::normalizeParam(name, value)}});
    if (ctx.json) {
        printJson(toJson(view));
    } else if (previous == view.value) {
        std::cout << name << " = " << view.value << " (unchanged)\n";
    } else {
        std::cout << name << " = " << view.value << " (was "
                  << (previous ? *previous : std::string(spec.defaultValue) + ", the default")
                  << ")\n";
    }
    return 0;
}

int resetCommand(Context& ctx, const std::string& name)
{
    const auto removed = ctx.store().resetParam(name);
    const common::ParamSpec* spec = common::findParam(name);
    if (spec == nullptr) {  // a stored unknown name, now removed
        if (ctx.json) {
            printJson({{"name", name}, {"removed", *removed}});
        } else {
            std::cout << "removed unknown parameter " << name << '\n';
        }
        return 0;
    }
    const auto view = viewOf(*spec, {});
    if (ctx.json) {
        printJson(toJson(view));
    } else if (removed) {
        std::cout << name << " = " << view.value << " (the default; was " << *removed << ")\n";
    } else {
        std::cout << name << " = " << view.value << " (the default; unchanged)\n";
    }
    return 0;
}

}  // namespace

void addParamCommands(CLI::App& app, Context& ctx)
{
    auto* param = app.add_subcommand("param", "Switch parameters (SPEC §2, VOS3000 names)");
    param->require_subcommand(1);
    param->footer("A change reaches a running softswitchd within a second; calls in progress "
                  "keep the values\nthey started with where SPEC §2 says so.\n\n"
                  "Examples:\n"
                  "  swctl param list\n"
                  "  swctl param set SS_SIP_TIMEOUT_INVITE 8\n"
                  "  swctl param reset SS_SIP_TIMEOUT_INVITE");

    auto* list = param->add_subcommand("list", "Every parameter: value, default, allowed");
    list->footer("VALUE is what the switch uses; CHANGED says whether it differs from DEFAULT "
                 "(\"invalid\": a\nstored value the switch ignores, using the default). "
                 "--json adds each parameter's meaning.\n\n"
                 "Examples:\n  swctl param list\n  swctl param list --json");
    list->callback([&ctx] { ctx.action = [&ctx] { return listCommand(ctx); }; });

    auto getName = std::make_shared<std::string>();
    auto* get = param->add_subcommand("get", "Print the value in effect");
    get->add_option("NAME", *getName, "Parameter name")->required();
    get->footer("Prints just the value, for scripts.\n\n"
                "Examples:\n  swctl param get SS_SIP_SESSION_TTL\n"
                "  ttl=$(swctl param get SS_SIP_SESSION_TTL)");
    get->callback([&ctx, getName] {
        ctx.action = [&ctx, getName] { return getCommand(ctx, *getName); };
    });

    auto setArgs = std::make_shared<std::pair<std::string, std::string>>();
    auto* set = param->add_subcommand("set", "Validate and store a value");
    set->add_option("NAME", setArgs->first, "Parameter name")->required();
    set->add_option("VALUE", setArgs->second, "New value (see swctl param list)")->required();
    set->footer("The value is checked against the allowed range (swctl param list) before "
                "anything is written;\na refused value exits 2 and changes nothing.\n\n"
                "Examples:\n"
                "  swctl param set SS_SIP_TIMEOUT_INVITE 8\n"
                "  swctl param set SS_SIP_RESEND_INTERVAL 0.5,1,2,4\n"
                "  swctl param set SS_SIP_ENABLE_100REL on");
    set->callback([&ctx, setArgs] {
        ctx.action = [&ctx, setArgs] { return setCommand(ctx, setArgs->first, setArgs->second); };
    });

    auto resetName = std::make_shared<std::string>();
    auto* reset = param->add_subcommand("reset", "Remove the stored value (back to default)");
    reset->add_option("NAME", *resetName, "Parameter name")->required();
    reset->footer("Example:\n  swctl param reset SS_SIP_TIMEOUT_INVITE");
    reset->callback([&ctx, resetName] {
        ctx.action = [&ctx, resetName] { return resetCommand(ctx, *resetName); };
    });
}

}  // namespace ss::swctl
