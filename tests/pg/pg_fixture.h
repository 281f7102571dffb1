// SPDX-License-Identifier: Apache-2.0
#pragma once

// Fixture of the PostgreSQL tests: a throwaway database per test on the cluster named by
// SS_TEST_PG_URL, dropped afterwards.

#include "cdr/cdr_record.h"
#include "tests/support/cdr_records.h"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace ss::pgtest {

class PgTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Applies schema/ to the test database.
    void migrateSchema();
    /// Runs `sql` in its own transaction on the test database and returns the result.
    pqxx::result sql(const std::string& sql);
    /// The first column of the first row as text ("" for NULL).
    std::string scalar(const std::string& query);
    /// Expects the rollup the CDR sink kept (cdr_rollup, and cdr_rollup_pdd: fold the pending
    /// histograms first) to be the one cdr_rollup_rebuild() computes from the stored calls, and
    /// leaves the rebuilt one in place. Returns the number of cdr_rollup rows rebuilt.
    std::string expectRollupAsRebuilt();

    std::string dsn_;     // libpq key=value string of the test database
    std::string dbName_;  // ss_test_<random>

private:
    std::string adminDsn_;
};

/// `dsn` (URL or key=value) with dbname replaced, as a key=value string.
std::string withDatabase(const std::string& dsn, const std::string& dbName);

/// A DSN that cannot connect (no such socket directory).
inline constexpr const char* kUnreachableDsn = "host=/nonexistent/ss-test port=1 dbname=x user=x";

using cdr::testing::makeRecord;  // tests/support/cdr_records.h

struct ProcessResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};

/// Runs a program (argv[0] a path) and captures stdout and stderr.
ProcessResult runProcess(const std::vector<std::string>& argv);

/// Runs the built swctl with `args` against the test database (`--db <dsn>` first).
ProcessResult swctl(const std::string& dsn, std::vector<std::string> args);

}  // namespace ss::pgtest
