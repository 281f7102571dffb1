// SPDX-License-Identifier: Apache-2.0
#include "web/token.h"

#include "common/config_error.h"
#include "tests/support/cdr_records.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace ss::web {
namespace {

using cdr::testing::TempDir;

std::string write(const TempDir& dir, const std::string& name, const std::string& content,
                  std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                 std::filesystem::perms::owner_write)
{
    const auto path = dir.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    std::filesystem::permissions(path, perms);
    return path;
}

std::string slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr const char* kGood = "s3cret-token-for-the-api-0123";

TEST(LoadToken, ReadsTheFileTrimmed)
{
    TempDir dir;
    const auto file = write(dir, "token", std::string("  ") + kGood + "\n\n");
    EXPECT_EQ(loadToken(file, std::nullopt, dir.path() + "/gen"), kGood);
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/gen"));
}

TEST(LoadToken, TheFileWinsOverTheEnvironment)
{
    TempDir dir;
    const auto file = write(dir, "token", kGood);
    EXPECT_EQ(loadToken(file, std::string("another-token-0123456789"), ""), kGood);
}

TEST(LoadToken, GroupReadableFileIsUsedWithAWarning)
{
    TempDir dir;
    using std::filesystem::perms;
    const auto file =
        write(dir, "token", kGood, perms::owner_read | perms::group_read | perms::others_read);
    EXPECT_EQ(loadToken(file, std::nullopt, ""), kGood);
}

TEST(LoadToken, RefusesEmptyMissingOrMalformedFiles)
{
    TempDir dir;
    const auto expectRefused = [&](const std::string& path, const std::string& mention) {
        try {
            loadToken(path, std::string(kGood), dir.path() + "/gen");
            ADD_FAILURE() << "accepted " << path;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
        }
    };
    expectRefused(write(dir, "empty", " \n\t\n"), "empty");
    expectRefused(dir.path() + "/missing", "No such file");
    expectRefused(dir.path(), "not a regular file");
    expectRefused(write(dir, "short", "abc"), "16 to 4096");
    expectRefused(write(dir, "spaces", "token with spaces 0123456789"), "valid");
    expectRefused(write(dir, "newline", "token-0123456789\nsecond-line-012345"), "valid");
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/gen"));
}

TEST(LoadToken, TakesTheEnvironmentTrimmedAndRefusesAnEmptyOne)
{
    EXPECT_EQ(loadToken("", std::string(" ") + kGood + "\n", ""), kGood);
    EXPECT_THROW(loadToken("", std::string(""), ""), ConfigError);
    EXPECT_THROW(loadToken("", std::string("short"), ""), ConfigError);
}

TEST(LoadToken, GeneratesAPrivateTokenFileAndReusesIt)
{
    TempDir dir;
    const auto gen = dir.path() + "/http-token";
    const auto token = loadToken("", std::nullopt, gen);
    EXPECT_TRUE(std::regex_match(token, std::regex("[0-9a-f]{64}"))) << token;
    EXPECT_EQ(slurp(gen), token + "\n");
    struct stat st {};
    ASSERT_EQ(::stat(gen.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(gen + ".tmp"));
    // A restart keeps it.
    EXPECT_EQ(loadToken("", std::nullopt, gen), token);
    // A corrupt one is replaced.
    std::ofstream(gen, std::ios::binary | std::ios::trunc) << "x";
    const auto fresh = loadToken("", std::nullopt, gen);
    EXPECT_NE(fresh, token);
    EXPECT_EQ(slurp(gen), fresh + "\n");
}

TEST(LoadToken, NoSourceAndNowhereToWriteIsAnError)
{
    EXPECT_THROW(loadToken("", std::nullopt, ""), ConfigError);
    EXPECT_THROW(loadToken("", std::nullopt, "/nonexistent-dir/ss/token"), ConfigError);
}

TEST(GenerateToken, IsRandomHex)
{
    const auto a = generateToken();
    const auto b = generateToken();
    EXPECT_EQ(a.size(), 64u);
    EXPECT_NE(a, b);
    EXPECT_TRUE(isValidToken(a));
}

TEST(TokenEquals, ComparesWholeTokens)
{
    EXPECT_TRUE(tokenEquals("abcdef", "abcdef"));
    EXPECT_FALSE(tokenEquals("abcdeX", "abcdef"));
    EXPECT_FALSE(tokenEquals("abcde", "abcdef"));
    EXPECT_FALSE(tokenEquals("abcdefabcdef", "abcdef"));  // repeats the token: still wrong
    EXPECT_FALSE(tokenEquals("", "abcdef"));
    EXPECT_FALSE(tokenEquals("", ""));
}

}  // namespace
}  // namespace ss::web
