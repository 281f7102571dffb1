// SPDX-License-Identifier: Apache-2.0
#pragma once

// What every swctl command shares: the global options and the database they lead to.

#include "cdr/admin_store.h"
#include "cdr/embedded_postgres.h"

#include <functional>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace ss::swctl {

struct Context {
    // Global options (SPEC §1).
    std::string db;        // --db / SOFTSWITCH_DB
    std::string stateDir;  // --state-dir / SOFTSWITCH_STATE_DIR
    bool json = false;     // --json
    // The live commands' (swctl calls, swctl gateway status) daemon API (SPEC §1).
    std::string api;        // --api / SOFTSWITCH_API
    std::string tokenFile;  // --token-file; else the token is SOFTSWITCH_HTTP_TOKEN

    /// Set by the chosen subcommand while parsing; run after parsing. Returns the exit code.
    std::function<int()> action;

    /// The DSN: --db, else SOFTSWITCH_DB, else the embedded cluster under
    /// `<state dir>/pg` (started if it is not running, and stopped again at exit if swctl
    /// started it — the same place softswitchd uses).
    const std::string& dsn();
    /// An AdminStore on dsn() (checks the schema version), whose changes the audit trail
    /// attributes to actor().
    cdr::AdminStore& store();

    /// `swctl:<OS user>` (getpwuid of the real uid; under sudo `swctl:<SUDO_USER>(sudo <user>)`).
    static std::string actor();

private:
    std::string dsn_;
    std::unique_ptr<cdr::EmbeddedPostgres> embedded_;
    std::unique_ptr<cdr::AdminStore> store_;
};

// Command groups; each adds its subcommands to `app`. One file each.
void addDbCommands(CLI::App& app, Context& ctx);
void addGatewayCommands(CLI::App& app, Context& ctx);
void addParamCommands(CLI::App& app, Context& ctx);
void addRouteCommands(CLI::App& app, Context& ctx);
void addCdrCommands(CLI::App& app, Context& ctx);
void addAuditCommands(CLI::App& app, Context& ctx);
/// `swctl calls`, and `swctl gateway status` under `gateway` (live state, over HTTP).
void addLiveCommands(CLI::App& app, CLI::App& gateway, Context& ctx);
/// `swctl completion bash`: generated from `app` as it stands when the command runs.
void addCompletionCommand(CLI::App& app, Context& ctx);

}  // namespace ss::swctl
