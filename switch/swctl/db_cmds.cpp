// SPDX-License-Identifier: Apache-2.0
// swctl db migrate | maintain

#include "cdr/errors.h"
#include "cdr/store.h"
#include "switch/swctl/context.h"
#include "switch/swctl/output.h"
#include "switch/swctl/validate.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <vector>

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

// The retention parameter (registered in common/params.cpp, so `swctl param set` validates it;
// softswitchd's hourly maintenance reads it through SwitchParams). Absent = 0 (keep forever).
constexpr const char* kRetentionParam = "SS_CDR_RETENTION_DAYS";

struct MaintainOptions {
    std::string daysAhead = std::to_string(cdr::kDefaultPartitionDaysAhead);
    std::string retentionDays;  // "" = SS_CDR_RETENTION_DAYS
};

int migrateCommand(Context& ctx, const std::string& schemaDirOption)
{
    const std::string schemaDir = schemaDirOption.empty() ? defaultSchemaDir() : schemaDirOption;
    const int version = cdr::migrate(ctx.dsn(), schemaDir);
    const int expected = cdr::expectedSchemaVersion();
    // The partitions of today and the days ahead (schema 3); never drops anything.
    std::vector<std::string> created;
    if (version == expected) {
        created = cdr::maintainPartitions(ctx.dsn(), cdr::kDefaultPartitionDaysAhead, 0).created;
    }
    if (ctx.json) {
        printJson({{"version", version},
                   {"expected", expected},
                   {"schema_dir", schemaDir},
                   {"partitions_created", created}});
    } else {
        std::cout << "schema version " << version << '\n';
    }
    if (version != expected) {
        std::cerr << "swctl: warning: this build expects schema version " << expected << " but "
                  << schemaDir << " reaches " << version << '\n';
    }
    return 0;
}

// The stored SS_CDR_RETENTION_DAYS, else 0. A stored value out of range is refused rather
// than guessed at: it decides what is deleted.
int storedRetentionDays(Context& ctx)
{
    const auto stored = ctx.store().storedParams();
    const auto it = stored.find(kRetentionParam);
    if (it == stored.end()) {
        return 0;
    }
    return parseInt(kRetentionParam, it->second, 0, cdr::kMaxRetentionDays);
}

int maintainCommand(Context& ctx, const MaintainOptions& o)
{
    // Both options are checked before the database is touched.
    const int daysAhead = parseInt("--days-ahead", o.daysAhead, 0, cdr::kMaxPartitionDaysAhead);
    const int retention = o.retentionDays.empty()
                              ? -1
                              : parseInt("--retention-days", o.retentionDays, 0,
                                         cdr::kMaxRetentionDays);
    const auto done = cdr::maintainPartitions(
        ctx.dsn(), daysAhead, retention >= 0 ? retention : storedRetentionDays(ctx));
    if (ctx.json) {
        printJson({{"days_ahead", daysAhead},
                   {"retention_days", done.retentionDays},
                   {"created", done.created},
                   {"dropped", done.dropped},
                   {"default_rows_deleted", done.defaultRowsDeleted}});
        return 0;
    }
    const auto list = [](const std::vector<std::string>& names) {
        std::string out;
        for (const auto& name : names) {
            out += (out.empty() ? "" : " ") + name;
        }
        return out.empty() ? std::string("none") : out;
    };
    std::cout << "created: " << list(done.created) << '\n'
              << "dropped: " << list(done.dropped) << '\n'
              << "old rows deleted from cdr_default: " << done.defaultRowsDeleted << '\n'
              << "retention: "
              << (done.retentionDays == 0 ? std::string("keep forever")
                                          : std::to_string(done.retentionDays) + " days")
              << '\n';
    return 0;
}

}  // namespace

void addDbCommands(CLI::App& app, Context& ctx)
{
    auto* db = app.add_subcommand("db", "Database set-up");
    db->require_subcommand(1);
    db->footer("Examples:\n  swctl db migrate\n  swctl db maintain --retention-days 180");
    auto* migrate = db->add_subcommand("migrate", "Apply schema/ migrations (idempotent)");
    auto schemaDir = std::make_shared<std::string>();
    migrate->add_option("--schema-dir", *schemaDir, "Directory of NNNN_*.sql migrations")
        ->envname("SOFTSWITCH_SCHEMA_DIR");
    migrate->footer(
        "Applies the schema/NNNN_*.sql files the database does not have yet, each in its own "
        "transaction,\nthen creates the CDR partitions of the coming days. Safe to run again "
        "and while softswitchd runs.\n\n"
        "Examples:\n"
        "  swctl db migrate\n"
        "  swctl --db 'host=db1 dbname=softswitch user=softswitch' db migrate\n"
        "  swctl db migrate --schema-dir /usr/share/softswitch/schema --json");
    migrate->callback([&ctx, schemaDir] {
        ctx.action = [&ctx, schemaDir] { return migrateCommand(ctx, *schemaDir); };
    });

    auto o = std::make_shared<MaintainOptions>();
    auto* maintain = db->add_subcommand(
        "maintain",
        "CDR partitions: create the daily partitions of today and N days ahead (UTC days); "
        "with a retention of R days, drop the daily partitions before today - R and delete "
        "older rows from the default partitions");
    maintain->add_option("--days-ahead", o->daysAhead, "N: 0-365")->capture_default_str();
    maintain->add_option("--retention-days", o->retentionDays,
                         "R: 0 (keep forever) to 3650; default: the stored "
                         "SS_CDR_RETENTION_DAYS, else 0");
    maintain->footer("softswitchd runs this hourly; run it by hand after changing the "
                     "retention.\n\n"
                     "Examples:\n"
                     "  swctl db maintain\n"
                     "  swctl db maintain --days-ahead 14 --retention-days 365 --json");
    maintain->callback([&ctx, o] { ctx.action = [&ctx, o] { return maintainCommand(ctx, *o); }; });
}

}  // namespace ss::swctl
