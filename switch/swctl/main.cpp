// SPDX-License-Identifier: Apache-2.0
// swctl: the softswitch admin CLI (SPEC §1). Exit 0 ok, 2 usage or validation error (nothing
// changed), 1 operational error.

#include "cdr/errors.h"
#include "common/log.h"
#include "switch/swctl/context.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitOperational = 1;
constexpr int kExitUsage = 2;

int run(int argc, char** argv)
{
    ss::swctl::Context ctx;
    CLI::App app("softswitch admin CLI", "swctl");
    app.require_subcommand(1);
    // Global options may also follow the subcommand (`swctl gateway list --json`).
    app.fallthrough();
    app.add_option("--db", ctx.db, "PostgreSQL connection string (libpq)")
        ->envname("SOFTSWITCH_DB");
    app.add_option("--state-dir", ctx.stateDir,
                   "State directory of the embedded cluster, used without --db "
                   "(default /var/lib/softswitch)")
        ->envname("SOFTSWITCH_STATE_DIR");
    app.add_flag("--json", ctx.json, "Machine-readable JSON output");
    ss::swctl::addDbCommands(app, ctx);
    ss::swctl::addParamCommands(app, ctx);
    ss::swctl::addGatewayCommands(app, ctx);
    ss::swctl::addRouteCommands(app, ctx);
    ss::swctl::addCdrCommands(app, ctx);
    ss::swctl::addAuditCommands(app, ctx);
    ss::swctl::addLiveCommands(app, *app.get_subcommand("gateway"), ctx);
    ss::swctl::addCompletionCommand(app, ctx);
    app.footer(
        "Configuration and CDR commands use PostgreSQL (--db or SOFTSWITCH_DB; without either, "
        "the embedded\ncluster under --state-dir). Live commands (calls, gateway status) use "
        "softswitchd's HTTP API\n(--api or SOFTSWITCH_API; token from SOFTSWITCH_HTTP_TOKEN or "
        "--token-file).\n"
        "Exit status: 0 ok, 2 usage or refused value (nothing changed), 1 operational error.\n"
        "`swctl COMMAND --help` explains each command with examples.\n\n"
        "Examples:\n"
        "  swctl db migrate\n"
        "  swctl gateway add carrier-a --role termination --host 198.51.100.7\n"
        "  swctl route add --prefix 49 --gateway carrier-a\n"
        "  swctl param set SS_SIP_TIMEOUT_INVITE 8\n"
        "  swctl cdr query --since -1h --format csv\n"
        "  swctl calls\n"
        "  source <(swctl completion bash)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    if (!ctx.action) {
        std::cerr << app.help();
        return kExitUsage;
    }
    try {
        return ctx.action();
    } catch (const ss::cdr::ValidationError& e) {
        std::cerr << "swctl: " << e.what() << '\n';
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "swctl: " << e.what() << '\n';
        return kExitOperational;
    }
}

}  // namespace

int main(int argc, char** argv)
{
    // Library logs (cdr) go to stderr; only warnings and errors, so stdout stays clean.
    ss::common::setLogLevel("warn");
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        // Includes stopping an embedded cluster at exit.
        std::cerr << "swctl: " << e.what() << '\n';
        return kExitOperational;
    }
}
