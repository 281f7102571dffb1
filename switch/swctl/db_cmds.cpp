// SPDX-License-Identifier: Apache-2.0
// swctl db migrate

#include "cdr/store.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

namespace ss::swctl {

namespace {

// --schema-dir, else SOFTSWITCH_SCHEMA_DIR (CLI11 envname), else the source tree's schema/
// when it exists (a build tree), else the installed copy.
std::string defaultSchemaDir()
{
    std::error_code ec;
    if (std::filesystem::is_directory(SS_SOURCE_SCHEMA_DIR, ec)) {
        return SS_SOURCE_SCHEMA_DIR;
    }
    return SS_INSTALLED_SCHEMA_DIR;
}

int migrateCommand(Context& ctx, const std::string& schemaDirOption)
{
    const std::string schemaDir = schemaDirOption.empty() ? defaultSchemaDir() : schemaDirOption;
    const int version = cdr::migrate(ctx.dsn(), schemaDir);
    const int expected = cdr::expectedSchemaVersion();
    if (ctx.json) {
        printJson({{"version", version}, {"expected", expected}, {"schema_dir", schemaDir}});
    } else {
        std::cout << "schema version " << version << '\n';
    }
    if (version != expected) {
        std::cerr << "swctl: warning: this build expects schema version " << expected << " but "
                  << schemaDir << " reaches " << version << '\n';
    }
    return 0;
}

}  // namespace

void addDbCommands(CLI::App& app, Context& ctx)
{
    auto* db = app.add_subcommand("db", "Database set-up");
    db->require_subcommand(1);
    auto* migrate = db->add_subcommand("migrate", "Apply schema/ migrations (idempotent)");
    auto schemaDir = std::make_shared<std::string>();
    migrate->add_option("--schema-dir", *schemaDir, "Directory of NNNN_*.sql migrations")
        ->envname("SOFTSWITCH_SCHEMA_DIR");
    migrate->callback([&ctx, schemaDir] {
        ctx.action = [&ctx, schemaDir] { return migrateCommand(ctx, *schemaDir); };
    });
}

}  // namespace ss::swctl
