// SPDX-License-Identifier: Apache-2.0
#include "cdr/errors.h"
#include "cdr/store.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <future>

namespace ss::pgtest {
namespace {

namespace fs = std::filesystem;

// schema/ copied to a temp dir, so tests can add migrations.
class SchemaCopy {
public:
    SchemaCopy()
    {
        path_ = ::testing::TempDir() + "ss_schema_XXXXXX";
        if (::mkdtemp(path_.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        fs::copy(SS_SCHEMA_DIR, path_);
    }
    ~SchemaCopy() { fs::remove_all(path_); }
    void add(const std::string& file, const std::string& sql)
    {
        std::ofstream(fs::path(path_) / file) << sql;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

using Migrate = PgTest;

TEST_F(Migrate, CreatesTheSchemaAndIsIdempotent)
{
    EXPECT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_EQ(cdr::migrate(dsn_, SS_SCHEMA_DIR), cdr::expectedSchemaVersion());
    EXPECT_EQ(scalar("SELECT count(*) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
    EXPECT_EQ(scalar("SELECT max(version) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
    EXPECT_EQ(scalar("SELECT name FROM schema_version WHERE version = 1"), "0001_initial.sql");
    for (const char* table : {"gateway", "route", "param", "cdr", "cdr_attempt"}) {
        EXPECT_EQ(scalar(std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t")
            << table;
    }
}

TEST_F(Migrate, AppliesOnlyMigrationsNewerThanTheDatabase)
{
    migrateSchema();
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_SEND_RETRY', '3')");
    SchemaCopy schema;
    schema.add("9001_extra.sql", "CREATE TABLE extra (id int);");
    EXPECT_EQ(cdr::migrate(dsn_, schema.path()), 9001);
    EXPECT_EQ(cdr::migrate(dsn_, schema.path()), 9001);
    EXPECT_EQ(scalar("SELECT to_regclass('extra') IS NOT NULL"), "t");
    // 0001 was not applied again (it would have failed on existing tables, or wiped data).
    EXPECT_EQ(scalar("SELECT value FROM param WHERE name = 'SS_SIP_SEND_RETRY'"), "3");
}

TEST_F(Migrate, AFailingMigrationChangesNothingAndNamesTheFile)
{
    migrateSchema();
    SchemaCopy schema;
    schema.add("9001_broken.sql", "CREATE TABLE half (id int); CREATE TABLE (;");
    try {
        cdr::migrate(dsn_, schema.path());
        FAIL() << "migrate succeeded";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("9001_broken.sql"));
    }
    EXPECT_EQ(scalar("SELECT max(version) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
    EXPECT_EQ(scalar("SELECT to_regclass('half') IS NOT NULL"), "f");
}

TEST_F(Migrate, ConcurrentRunsBothSucceedOnce)
{
    auto a = std::async(std::launch::async, [&] { return cdr::migrate(dsn_, SS_SCHEMA_DIR); });
    auto b = std::async(std::launch::async, [&] { return cdr::migrate(dsn_, SS_SCHEMA_DIR); });
    EXPECT_EQ(a.get(), cdr::expectedSchemaVersion());
    EXPECT_EQ(b.get(), cdr::expectedSchemaVersion());
    EXPECT_EQ(scalar("SELECT count(*) FROM schema_version"),
              std::to_string(cdr::expectedSchemaVersion()));
}

TEST_F(Migrate, RefusesAMissingSchemaDirectory)
{
    EXPECT_THROW(cdr::migrate(dsn_, "/nonexistent/schema"), ConfigError);
}

TEST_F(Migrate, RefusesADatabaseNewerThanTheMigrations)
{
    SchemaCopy schema;
    schema.add("9001_extra.sql", "SELECT 1;");
    ASSERT_EQ(cdr::migrate(dsn_, schema.path()), 9001);
    EXPECT_THROW(cdr::migrate(dsn_, SS_SCHEMA_DIR), ConfigError);
}

TEST_F(Migrate, UnreachableDatabaseIsDbUnavailable)
{
    EXPECT_THROW(cdr::migrate(kUnreachableDsn, SS_SCHEMA_DIR), cdr::DbUnavailable);
}

}  // namespace
}  // namespace ss::pgtest
