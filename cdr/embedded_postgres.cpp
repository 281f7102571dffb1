// SPDX-License-Identifier: Apache-2.0
#include "cdr/embedded_postgres.h"

#include "cdr/cdr_log.h"
#include "cdr/pg/pg_util.h"
#include "common/config_error.h"

#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <system_error>
#include <tuple>
#include <vector>

extern char** environ;

namespace ss::cdr {

namespace {

namespace fs = std::filesystem;

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kDatabase = "softswitch";
constexpr int kDefaultPort = 5432;
constexpr std::size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1

// Settings for a CDR-heavy write load (tests/load/README.md), durability unchanged (fsync and
// synchronous_commit stay on): fewer checkpoints, so fewer full-page images in the WAL
// (initdb's max_wal_size=1GB checkpoints every few minutes at tens of thousands of CDRs/s);
// a larger WAL buffer for the batch transactions; shared_buffers to hold the current day's
// `cdr` indexes. Sized for a small host (2 vCPUs, a few GB of RAM).
constexpr const char* kTuning =
    " -c shared_buffers=256MB -c wal_buffers=16MB -c max_wal_size=4GB"
    " -c checkpoint_timeout=15min -c checkpoint_completion_target=0.9";

struct CommandResult {
    int status = -1;  // exit status, -1 when it did not exit normally
    std::string output;  // stdout and stderr together
};

// Runs argv (posix_spawn: safe in a process that already has threads), stdin from /dev/null,
// stdout+stderr captured, working directory `cwd` (so the postgres user never starts in a
// directory it cannot read, such as /root).
CommandResult runCommand(const std::vector<std::string>& args, const std::string& cwd)
{
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);

    std::array<int, 2> pipeFds{};
    if (::pipe2(pipeFds.data(), O_CLOEXEC) != 0) {
        throw ConfigError("pipe: " + std::system_category().message(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipeFds[1]);
    if (rc != 0) {
        ::close(pipeFds[0]);
        throw ConfigError("cannot run " + args[0] + ": " + std::system_category().message(rc));
    }
    CommandResult result;
    std::array<char, 4096> buf{};
    for (;;) {
        const ssize_t n = ::read(pipeFds[0], buf.data(), buf.size());
        if (n > 0) {
            result.output.append(buf.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(pipeFds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string tail(const std::string& text, std::size_t n = 1500)
{
    return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

std::string readTail(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return tail(text);
}

std::string runuserPath()
{
    for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser"}) {
        if (::access(p, X_OK) == 0) {
            return p;
        }
    }
    return "runuser";
}

// The postgres OS user: the server cannot run as root.
struct PgUser {
    uid_t uid = 0;
    gid_t gid = 0;
};

std::optional<PgUser> postgresUserIfRoot()
{
    if (::geteuid() != 0) {
        return std::nullopt;
    }
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
        throw ConfigError("running as root, the embedded PostgreSQL needs the `postgres` OS user "
                          "(installed with the postgresql-15 package)");
    }
    return PgUser{pw->pw_uid, pw->pw_gid};
}

// Every directory from / down to `dir` must let the postgres user through.
void requireTraversable(const fs::path& dir, const PgUser& user)
{
    fs::path prefix;
    for (const auto& part : dir) {
        prefix /= part;
        struct stat st{};
        if (::stat(prefix.c_str(), &st) != 0) {
            continue;
        }
        const mode_t bit = st.st_uid == user.uid   ? S_IXUSR
                           : st.st_gid == user.gid ? S_IXGRP
                                                   : S_IXOTH;
        if ((st.st_mode & bit) == 0) {
            throw ConfigError("state directory " + dir.string() + ": the postgres user cannot " +
                              "enter " + prefix.string() + " (mode " +
                              fmt::format("{:04o}", st.st_mode & 07777) +
                              "); make it traversable (chmod 755) or use another state "
                              "directory");
        }
    }
}

// Creates `path` (and its parents); a directory we create gets `mode`, one that exists keeps
// its mode. With `owner`, it is given to the postgres user either way.
void makeDir(const fs::path& path, mode_t mode, const std::optional<PgUser>& owner)
{
    std::error_code ec;
    const bool created = fs::create_directories(path, ec);
    if (ec) {
        throw ConfigError("cannot create " + path.string() + ": " + ec.message());
    }
    if (owner && ::chown(path.c_str(), owner->uid, owner->gid) != 0) {
        throw ConfigError("cannot chown " + path.string() + " to postgres: " +
                          std::system_category().message(errno));
    }
    if (created && ::chmod(path.c_str(), mode) != 0) {
        throw ConfigError("cannot chmod " + path.string() + ": " +
                          std::system_category().message(errno));
    }
}

// pg_ctl hands its -o options to /bin/sh; allow only characters that need no quoting.
void requireSafePath(const fs::path& dir)
{
    static const std::regex kSafe("^[A-Za-z0-9/_.+-]+$");
    if (!std::regex_match(dir.string(), kSafe)) {
        throw ConfigError("state directory \"" + dir.string() +
                          "\" may contain only letters, digits and / _ . + -");
    }
}

// Port and socket directory of a running server (lines 4 and 5 of postmaster.pid).
std::pair<int, std::string> runningServerAddress(const fs::path& data, int port,
                                                 const std::string& socketDir)
{
    std::ifstream in(data / "postmaster.pid");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    if (lines.size() >= 5) {
        try {
            return {std::stoi(lines[3]), lines[4].empty() ? socketDir : lines[4]};
        } catch (const std::exception&) {
            // fall through to the configured address
        }
    }
    return {port, socketDir};
}

std::string dsnFor(const std::string& socketDir, int port, const std::string& db)
{
    return "host=" + socketDir + " port=" + std::to_string(port) + " dbname=" + db +
           " user=postgres";
}

// Creates the layout; as root, hands data, run and the log to the postgres user and checks
// that it can reach them. Returns that user when running as root.
std::optional<PgUser> prepareDirectories(const fs::path& dir, const fs::path& data,
                                         const fs::path& run, const fs::path& log)
{
    const auto pgUser = postgresUserIfRoot();
    makeDir(dir, 0755, std::nullopt);
    makeDir(data, 0700, pgUser);
    makeDir(run, 0755, pgUser);
    if (pgUser) {
        requireTraversable(dir, *pgUser);
        std::ofstream(log, std::ios::app).close();
        if (::chown(log.c_str(), pgUser->uid, pgUser->gid) != 0) {
            throw ConfigError("cannot chown " + log.string() + ": " +
                              std::system_category().message(errno));
        }
    }
    return pgUser;
}

}  // namespace

EmbeddedPostgres::EmbeddedPostgres(std::string dir, int port) : dir_(std::move(dir)), port_(port)
{
}

EmbeddedPostgres::~EmbeddedPostgres()
{
    try {
        stop();
    } catch (const std::exception& e) {
        cdrLog()->warn("stopping the embedded PostgreSQL: {}", e.what());
    }
}

std::string EmbeddedPostgres::start()
{
    const fs::path dir = fs::absolute(dir_).lexically_normal();
    requireSafePath(dir);
    const fs::path data = dir / "data";
    const std::string run = (dir / "run").string();
    const fs::path log = dir / "postgres.log";
    const int port = port_ == 0 ? kDefaultPort : port_;
    if (run.size() + std::string("/.s.PGSQL.").size() + 5 > kMaxSocketPath) {
        throw ConfigError("state directory " + dir.string() +
                          " is too long for a Unix socket path; use a shorter one");
    }
    const std::string bin = kBinDir;
    if (::access((bin + "/pg_ctl").c_str(), X_OK) != 0) {
        throw ConfigError("PostgreSQL 15 is not installed (" + bin + "/pg_ctl missing)");
    }
    const auto pgUser = prepareDirectories(dir, data, run, log);
    const auto command = [&](std::vector<std::string> args) {
        if (pgUser) {
            args.insert(args.begin(), {runuserPath(), "-u", "postgres", "--"});
        }
        return runCommand(args, dir.string());
    };

    if (!fs::exists(data / "PG_VERSION")) {
        cdrLog()->info("creating the embedded PostgreSQL cluster in {}", data.string());
        const auto r = command({bin + "/initdb", "-D", data.string(), "-U", "postgres", "-E",
                                "UTF8", "--no-locale", "--auth-local=trust",
                                "--auth-host=scram-sha-256"});
        if (r.status != 0) {
            throw ConfigError("initdb " + data.string() + " failed: " + tail(r.output));
        }
    }

    std::string socketDir = run;
    int actualPort = port;
    if (command({bin + "/pg_ctl", "-D", data.string(), "status"}).status == 0) {
        std::tie(actualPort, socketDir) = runningServerAddress(data, port, run);
        cdrLog()->info("using the PostgreSQL already running on {} (port {})", socketDir,
                       actualPort);
    } else {
        // pg_ctl passes -o to /bin/sh; requireSafePath() keeps `run` free of shell syntax.
        const std::string listen = port_ == 0 ? "''" : "'127.0.0.1'";
        const std::string options = "-k '" + run + "' -p " + std::to_string(port) +
                                    " -c listen_addresses=" + listen + kTuning;
        const auto r = command({bin + "/pg_ctl", "-D", data.string(), "-l", log.string(), "-w",
                                "-t", "60", "-o", options, "start"});
        if (r.status != 0) {
            throw ConfigError("starting PostgreSQL in " + data.string() +
                              " failed: " + tail(r.output) + "\n" + log.string() + ": " +
                              readTail(log));
        }
        started_ = true;
        cdrLog()->info("started the embedded PostgreSQL ({}, socket in {})", data.string(), run);
    }
    pg::ensureDatabase(dsnFor(socketDir, actualPort, "postgres"), kDatabase);
    return dsnFor(socketDir, actualPort, kDatabase);
}

void EmbeddedPostgres::stop()
{
    if (!started_) {
        return;
    }
    started_ = false;
    const fs::path dir = fs::absolute(dir_).lexically_normal();
    std::vector<std::string> args = {std::string(kBinDir) + "/pg_ctl", "-D",
                                     (dir / "data").string(), "-m", "fast", "-w", "stop"};
    if (::geteuid() == 0) {
        args.insert(args.begin(), {runuserPath(), "-u", "postgres", "--"});
    }
    const auto r = runCommand(args, dir.string());
    if (r.status != 0) {
        throw ConfigError("stopping PostgreSQL in " + dir.string() + " failed: " + tail(r.output));
    }
    cdrLog()->info("stopped the embedded PostgreSQL ({})", dir.string());
}

}  // namespace ss::cdr
