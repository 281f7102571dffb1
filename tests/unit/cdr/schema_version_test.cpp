// SPDX-License-Identifier: Apache-2.0
// The compiled-in schema version must follow the migrations in schema/.

#include "cdr/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

namespace ss::cdr {
namespace {

TEST(SchemaVersion, IsTheHighestMigrationNumberInSchemaDir)
{
    static const std::regex kMigration(R"(^([0-9]{4})_.*\.sql$)");
    int highest = 0;
    for (const auto& entry : std::filesystem::directory_iterator(SS_SCHEMA_DIR)) {
        const std::string name = entry.path().filename().string();
        std::smatch m;
        if (std::regex_match(name, m, kMigration)) {
            highest = std::max(highest, std::stoi(m[1].str()));
        }
    }
    ASSERT_GT(highest, 0) << "no migrations in " << SS_SCHEMA_DIR;
    EXPECT_EQ(expectedSchemaVersion(), highest);
}

}  // namespace
}  // namespace ss::cdr
