// SPDX-License-Identifier: Apache-2.0
#include "web/token.h"

#include "common/config_error.h"
#include "common/log.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ss::web {

namespace {

constexpr std::size_t kMinLength = 16;
constexpr std::size_t kMaxLength = 4096;
constexpr std::size_t kMaxFileBytes = 64 * 1024;

std::string trim(std::string_view s)
{
    const auto isSpace = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
    };
    while (!s.empty() && isSpace(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && isSpace(s.back())) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

std::string errnoText(int error)
{
    return std::strerror(error);
}

// The trimmed content of `path`; nullopt when it does not exist (only if `mayBeAbsent`).
std::optional<std::string> readTokenFile(const std::string& path, bool mayBeAbsent)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int error = errno;
        if (error == ENOENT && mayBeAbsent) {
            return std::nullopt;
        }
        throw ConfigError("HTTP token file " + path + ": " + errnoText(error));
    }
    if (!S_ISREG(st.st_mode)) {
        throw ConfigError("HTTP token file " + path + ": not a regular file");
    }
    if (st.st_size > static_cast<off_t>(kMaxFileBytes)) {
        throw ConfigError("HTTP token file " + path + ": larger than 64 KiB, not a token");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("HTTP token file " + path + ": cannot be read (" +
                          errnoText(errno) + ")");
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
        throw ConfigError("HTTP token file " + path + ": read error");
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        common::logger("web")->warn(
            "HTTP token file {} may be read by group or others (mode {:o}); chmod 600 it",
            path, st.st_mode & 07777);
    }
    return trim(content.str());
}

void checkToken(const std::string& token, const std::string& where)
{
    if (token.empty()) {
        throw ConfigError(where + " is empty; it must hold the HTTP API token");
    }
    if (!isValidToken(token)) {
        throw ConfigError(where + " does not hold a valid HTTP API token: expected " +
                          std::to_string(kMinLength) + " to " + std::to_string(kMaxLength) +
                          " characters from A-Z a-z 0-9 - . _ ~ + / =");
    }
}

// Writes `token` to `path` with mode 0600 through a temporary file and rename, so a reader
// never sees half a token and the file never exists with wider permissions.
void writeTokenFile(const std::string& path, const std::string& token)
{
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw ConfigError("cannot write the HTTP token file " + tmp + ": " + errnoText(errno));
    }
    const std::string content = token + "\n";
    std::size_t done = 0;
    bool ok = ::fchmod(fd, 0600) == 0;
    while (ok && done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    ok = ok && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = ok ? errno : error;
        ::unlink(tmp.c_str());
        throw ConfigError("cannot write the HTTP token file " + path + ": " + errnoText(e));
    }
}

}  // namespace

bool isValidToken(std::string_view text)
{
    if (text.size() < kMinLength || text.size() > kMaxLength) {
        return false;
    }
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                        c == '+' || c == '/' || c == '=';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string generateToken()
{
    std::array<unsigned char, 32> bytes{};
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::getrandom(bytes.data() + done, bytes.size() - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw ConfigError("cannot generate the HTTP API token: getrandom: " +
                              errnoText(errno));
        }
        done += static_cast<std::size_t>(n);
    }
    static const char* const kHex = "0123456789abcdef";
    std::string out;
    for (const unsigned char b : bytes) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 15]);
    }
    return out;
}

bool tokenEquals(std::string_view given, std::string_view expected)
{
    // Walk `given` whole; the expected token's bytes are read cyclically so the loop does
    // not depend on where they differ.
    unsigned diff = given.size() == expected.size() ? 0U : 1U;
    if (expected.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < given.size(); ++i) {
        diff |= static_cast<unsigned char>(given[i]) ^
                static_cast<unsigned char>(expected[i % expected.size()]);
    }
    return diff == 0;
}

std::string loadToken(const std::string& tokenFile, const std::optional<std::string>& envValue,
                      const std::string& generatedFile)
{
    auto log = common::logger("web");
    if (!tokenFile.empty()) {
        auto token = *readTokenFile(tokenFile, false);
        checkToken(token, "HTTP token file " + tokenFile);
        if (envValue) {
            log->info("HTTP API token from {} ({} is ignored)", tokenFile, kTokenEnv);
        } else {
            log->info("HTTP API token from {}", tokenFile);
        }
        return token;
    }
    if (envValue) {
        auto token = trim(*envValue);
        checkToken(token, std::string("environment variable ") + kTokenEnv);
        log->info("HTTP API token from the environment ({})", kTokenEnv);
        return token;
    }
    if (generatedFile.empty()) {
        throw ConfigError(std::string("no HTTP API token: give --http-token-file or set ") +
                          kTokenEnv);
    }
    if (auto existing = readTokenFile(generatedFile, true); existing && isValidToken(*existing)) {
        log->info("HTTP API token from {} (generated earlier; --http-token-file or {} to "
                  "choose one)",
                  generatedFile, kTokenEnv);
        return *existing;
    }
    auto token = generateToken();
    writeTokenFile(generatedFile, token);
    log->info("HTTP API token generated and written to {} (mode 0600); clients send "
              "\"Authorization: Bearer <its content>\"",
              generatedFile);
    return token;
}

}  // namespace ss::web
