// SPDX-License-Identifier: Apache-2.0
// The provisioning watcher: LISTEN on a connection of its own, coalesce bursts of NOTIFY,
// reload, and reconnect with backoff when the connection is lost.

#include "cdr/provisioning_watcher.h"

#include "cdr/cdr_log.h"
#include "cdr/errors.h"
#include "cdr/pg/pg_util.h"
#include "cdr/store.h"
#include "common/clock.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

namespace ss::cdr {

namespace {

using common::Millis;
using common::MonoTime;

constexpr Millis kCoalesceWindow{50};
constexpr Millis kBackoffInitial{500};
constexpr Millis kBackoffMax{5000};

// A dead server must not stall reloads (or stop()) for the kernel's default of many minutes.
const std::vector<std::pair<std::string, std::string>> kConnectionDefaults = {
    {"connect_timeout", "5"},
    {"keepalives", "1"},
    {"keepalives_idle", "10"},
    {"keepalives_interval", "5"},
    {"keepalives_count", "3"},
    {"tcp_user_timeout", "15000"},
    {"fallback_application_name", "softswitchd-provisioning"},
};

// Where a wait ended.
enum class Wake {
    Stop,      // stop() was called
    Readable,  // the connection's socket has data, an error or EOF
    Timeout,   // the deadline passed
};

std::string inSeconds(Millis ms)
{
    return fmt::format("{:g} s", static_cast<double>(ms.count()) / 1000);
}

}  // namespace

struct ProvisioningWatcher::Impl {
    Impl(const std::string& dsn, SnapshotHandler onSnapshot, ErrorHandler onError);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void run();
    // One connection's life: returns on stop, throws when the connection fails.
    void listen(Millis& backoff);
    // Reads pending notifications; how many. Throws pqxx::broken_connection when lost.
    static int drain(pqxx::connection& conn);
    // Loads and delivers a snapshot. DbUnavailable propagates (a connection problem); other
    // failures are reported and the current snapshot stays.
    void reload();
    Wake waitFor(int sock, std::optional<MonoTime> deadline);
    void report(const std::string& message);

    std::string dsn_;
    SnapshotHandler onSnapshot_;
    ErrorHandler onError_;
    common::SystemClock clock_;
    int wakeRead_ = -1;   // stop() writes a byte to wakeWrite_, so poll() returns at once
    int wakeWrite_ = -1;
    std::atomic<bool> stopping_{false};
    bool connected_ = false;  // watcher thread: the current attempt got as far as LISTEN
    std::mutex joinMutex_;
    std::thread thread_;
};

ProvisioningWatcher::Impl::Impl(const std::string& dsn, SnapshotHandler onSnapshot,
                                ErrorHandler onError)
    : dsn_(pg::withConnectionDefaults(dsn, kConnectionDefaults)),
      onSnapshot_(std::move(onSnapshot)),
      onError_(std::move(onError))
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::system_error(errno, std::generic_category(), "provisioning watcher: pipe");
    }
    wakeRead_ = fds[0];
    wakeWrite_ = fds[1];
}

ProvisioningWatcher::Impl::~Impl()
{
    ::close(wakeRead_);
    ::close(wakeWrite_);
}

void ProvisioningWatcher::Impl::run()
{
    Millis backoff = kBackoffInitial;
    for (;;) {
        connected_ = false;
        std::string why;
        try {
            listen(backoff);
            return;  // stopped
        } catch (const std::exception& e) {
            why = pg::oneLine(e.what());
        }
        if (stopping_) {
            return;
        }
        report(fmt::format("provisioning watcher: {} ({}); reconnecting in {}",
                           connected_ ? "lost the database connection" : "cannot connect",
                           why, inSeconds(backoff)));
        try {
            if (waitFor(-1, clock_.monotonicNow() + backoff) == Wake::Stop) {
                return;
            }
        } catch (const std::exception& e) {
            // poll() itself failed: nothing sensible is left to wait on.
            report(std::string("provisioning watcher: stopped, live reload is off: ") +
                   e.what());
            return;
        }
        backoff = std::min(backoff * 2, kBackoffMax);
    }
}

void ProvisioningWatcher::Impl::listen(Millis& backoff)
{
    pqxx::connection conn(dsn_);
    {
        // Our own LISTEN rather than a pqxx receiver: its LISTEN swallows a broken connection.
        pqxx::nontransaction txn(conn);
        txn.exec0(std::string("LISTEN ") + txn.quote_name(kProvisioningChannel));
    }
    connected_ = true;
    cdrLog()->info("provisioning watcher: listening on channel {}", kProvisioningChannel);
    // Changes made before the LISTEN took effect (or while we were disconnected) raised no
    // notification we will see: start from a full snapshot.
    reload();
    backoff = kBackoffInitial;
    for (;;) {
        if (waitFor(conn.sock(), std::nullopt) == Wake::Stop) {
            return;
        }
        if (drain(conn) == 0) {
            continue;
        }
        // A burst (a script of swctl commands, a multi-statement change) costs one load.
        const MonoTime deadline = clock_.monotonicNow() + kCoalesceWindow;
        for (;;) {
            const Wake wake = waitFor(conn.sock(), deadline);
            if (wake == Wake::Stop) {
                return;
            }
            if (wake == Wake::Timeout) {
                break;
            }
            drain(conn);
        }
        reload();
    }
}

int ProvisioningWatcher::Impl::drain(pqxx::connection& conn)
{
    // pqxx 6.4's get_notifs() throws when reading fails but returns 0 once the connection is
    // marked bad, and sock() is then -1: check both, or we would wait on nothing forever.
    const int count = conn.get_notifs();
    if (!conn.is_open() || conn.sock() < 0) {
        throw pqxx::broken_connection("connection to the server lost");
    }
    return count;
}

void ProvisioningWatcher::Impl::reload()
{
    std::optional<common::Provisioning> snapshot;
    try {
        snapshot = loadProvisioning(dsn_);
    } catch (const DbUnavailable&) {
        throw;
    } catch (const std::exception& e) {
        report(fmt::format("provisioning watcher: reload failed, keeping the current "
                           "configuration: {}",
                           e.what()));
        return;
    }
    if (stopping_) {
        return;
    }
    cdrLog()->debug("provisioning watcher: {} gateways, {} routes, {} parameters",
                    snapshot->gateways.size(), snapshot->routes.size(), snapshot->params.size());
    try {
        onSnapshot_(std::move(*snapshot));
    } catch (const std::exception& e) {
        cdrLog()->error("provisioning watcher: the snapshot handler threw: {}", e.what());
    } catch (...) {
        cdrLog()->error("provisioning watcher: the snapshot handler threw");
    }
}

Wake ProvisioningWatcher::Impl::waitFor(int sock, std::optional<MonoTime> deadline)
{
    pollfd fds[2] = {{wakeRead_, POLLIN, 0}, {sock, POLLIN, 0}};
    const nfds_t count = sock >= 0 ? 2 : 1;
    for (;;) {
        if (stopping_) {
            return Wake::Stop;
        }
        int timeoutMs = -1;
        if (deadline) {
            const auto left =
                std::chrono::ceil<Millis>(*deadline - clock_.monotonicNow()).count();
            if (left <= 0) {
                return Wake::Timeout;
            }
            timeoutMs = static_cast<int>(left);
        }
        const int n = ::poll(fds, count, timeoutMs);
        if (n < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (n > 0 && fds[0].revents != 0) {
            return Wake::Stop;
        }
        if (n > 0 && count == 2 && fds[1].revents != 0) {
            return Wake::Readable;
        }
    }
}

void ProvisioningWatcher::Impl::report(const std::string& message)
{
    try {
        onError_(message);
    } catch (const std::exception& e) {
        cdrLog()->error("provisioning watcher: the error handler threw: {}", e.what());
    } catch (...) {
        cdrLog()->error("provisioning watcher: the error handler threw");
    }
}

ProvisioningWatcher::ProvisioningWatcher(const std::string& dsn, SnapshotHandler onSnapshot,
                                         ErrorHandler onError)
    : impl_(std::make_unique<Impl>(dsn, std::move(onSnapshot), std::move(onError)))
{
    impl_->thread_ = std::thread([impl = impl_.get()] { impl->run(); });
}

ProvisioningWatcher::~ProvisioningWatcher() { stop(); }

void ProvisioningWatcher::stop()
{
    impl_->stopping_ = true;
    const char byte = 1;
    // The pipe is non-blocking: when it is full, a wake-up is already pending.
    [[maybe_unused]] const auto written = ::write(impl_->wakeWrite_, &byte, 1);
    std::lock_guard lock(impl_->joinMutex_);
    if (impl_->thread_.joinable()) {
        impl_->thread_.join();
    }
}

}  // namespace ss::cdr
