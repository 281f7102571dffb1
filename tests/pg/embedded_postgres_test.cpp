// SPDX-License-Identifier: Apache-2.0
// EmbeddedPostgres runs a real cluster of its own (no SS_TEST_PG_URL needed): initdb, start,
// reuse, stop. Slow (initdb, a few seconds).

#include "cdr/embedded_postgres.h"
#include "cdr/errors.h"
#include "cdr/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace ss::cdr {
namespace {

namespace fs = std::filesystem;

class EmbeddedPostgresTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::access("/usr/lib/postgresql/15/bin/pg_ctl", X_OK) != 0) {
            GTEST_SKIP() << "*** PostgreSQL 15 binaries missing: embedded test SKIPPED ***";
        }
        // Short path: the socket path must fit in 107 bytes.
        dir_ = "/tmp/ssemb_XXXXXX";
        ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
        ::chmod(dir_.c_str(), 0755);  // the postgres user must get in when we are root
    }
    void TearDown() override
    {
        if (!dir_.empty()) {
            fs::remove_all(dir_);
        }
    }
    std::string dir_;
};

TEST_F(EmbeddedPostgresTest, StartsMigratesReusesAndStops)
{
    EmbeddedPostgres pg(dir_ + "/pg");
    const std::string dsn = pg.start();
    EXPECT_EQ(dsn, "host=" + dir_ + "/pg/run port=5432 dbname=softswitch user=postgres");
    EXPECT_TRUE(fs::exists(dir_ + "/pg/data/PG_VERSION"));
    EXPECT_EQ(migrate(dsn, SS_SCHEMA_DIR), expectedSchemaVersion());
    {
        // A second user of the same directory finds it running and leaves it running.
        EmbeddedPostgres again(dir_ + "/pg");
        EXPECT_EQ(again.start(), dsn);
        again.stop();
    }
    EXPECT_TRUE(loadProvisioning(dsn).gateways.empty());
    pg.stop();
    EXPECT_THROW(loadProvisioning(dsn), DbUnavailable);

    // Started again on the existing cluster: data kept, no initdb.
    EmbeddedPostgres third(dir_ + "/pg");
    EXPECT_EQ(third.start(), dsn);
    EXPECT_EQ(migrate(dsn, SS_SCHEMA_DIR), expectedSchemaVersion());
    third.stop();
}

TEST_F(EmbeddedPostgresTest, RefusesADirectoryThePostgresUserCannotEnter)
{
    if (::geteuid() != 0) {
        GTEST_SKIP() << "only relevant when running as root";
    }
    ::chmod(dir_.c_str(), 0700);
    EmbeddedPostgres pg(dir_ + "/pg");
    try {
        pg.start();
        FAIL() << "started";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("cannot enter " + dir_));
        EXPECT_THAT(e.what(), ::testing::HasSubstr("0700"));
    }
}

TEST_F(EmbeddedPostgresTest, RefusesCharactersTheShellWouldInterpret)
{
    EmbeddedPostgres pg(dir_ + "/it's");
    EXPECT_THROW(pg.start(), ConfigError);
}

}  // namespace
}  // namespace ss::cdr
