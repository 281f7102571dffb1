// SPDX-License-Identifier: Apache-2.0
// Live reload against a real PostgreSQL (SPEC §1: a change reaches the switch within 1 s):
// snapshots after changes, coalesced bursts, reconnect after the connection is killed, stop().

#include "cdr/admin_store.h"
#include "cdr/provisioning_watcher.h"
#include "common/clock.h"
#include "pg_fixture.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>

namespace ss::pgtest {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kTimeout = 10s;  // generous: only a broken watcher waits this long

// What the watcher handed over; its callbacks run on the watcher thread.
struct Recorder {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<common::Provisioning> snapshots;
    std::vector<std::string> errors;

    cdr::ProvisioningWatcher::SnapshotHandler snapshotHandler()
    {
        return [this](common::Provisioning p) {
            std::lock_guard lock(mutex);
            snapshots.push_back(std::move(p));
            changed.notify_all();
        };
    }
    cdr::ProvisioningWatcher::ErrorHandler errorHandler()
    {
        return [this](const std::string& message) {
            std::lock_guard lock(mutex);
            errors.push_back(message);
            changed.notify_all();
        };
    }
    template <class Pred>
    bool waitUntil(Pred pred)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, kTimeout, [&] { return pred(); });
    }
    std::size_t snapshotCount()
    {
        std::lock_guard lock(mutex);
        return snapshots.size();
    }
    common::Provisioning firstSnapshot()
    {
        std::lock_guard lock(mutex);
        return snapshots.at(0);
    }
    std::vector<std::string> errorList()
    {
        std::lock_guard lock(mutex);
        return errors;
    }
    // Waits for a snapshot in which `pred` holds; the time it took.
    template <class Pred>
    std::optional<common::Millis> waitForSnapshot(Pred pred, common::MonoTime since)
    {
        const bool seen = waitUntil([&] { return !snapshots.empty() && pred(snapshots.back()); });
        if (!seen) {
            return std::nullopt;
        }
        return std::chrono::duration_cast<common::Millis>(common::SystemClock().monotonicNow() -
                                                          since);
    }
};

bool hasGateway(const common::Provisioning& p, const std::string& name)
{
    return std::any_of(p.gateways.begin(), p.gateways.end(),
                       [&](const auto& gw) { return gw.name == name; });
}

common::GatewayConfig gateway(const std::string& name)
{
    common::GatewayConfig gw;
    gw.name = name;
    gw.host = "10.0.1.1";
    return gw;
}

class ProvisioningWatcherTest : public PgTest {
protected:
    void SetUp() override
    {
        PgTest::SetUp();
        if (!IsSkipped() && !HasFailure()) {
            migrateSchema();
        }
    }
    // Starts the watcher and waits for its start-up snapshot.
    void start()
    {
        watcher_ = std::make_unique<cdr::ProvisioningWatcher>(dsn_, recorder_.snapshotHandler(),
                                                              recorder_.errorHandler());
        ASSERT_TRUE(recorder_.waitUntil([&] { return !recorder_.snapshots.empty(); }));
    }
    common::MonoTime now() const { return clock_.monotonicNow(); }

    common::SystemClock clock_;
    Recorder recorder_;
    std::unique_ptr<cdr::ProvisioningWatcher> watcher_;
};

TEST_F(ProvisioningWatcherTest, DeliversAChangeWithinOneSecond)
{
    cdr::AdminStore store(dsn_);
    store.addGateway(gateway("before"));  // made before the watcher: in its first snapshot
    start();
    EXPECT_TRUE(hasGateway(recorder_.firstSnapshot(), "before"));

    auto t0 = now();
    store.addGateway(gateway("term1"));
    auto latency = recorder_.waitForSnapshot([](const auto& p) { return hasGateway(p, "term1"); },
                                             t0);
    ASSERT_TRUE(latency);
    EXPECT_LT(*latency, 1000ms);
    std::cout << "gateway add -> snapshot: " << latency->count() << " ms\n";

    t0 = now();
    store.addRoute({0, "49", "term1", 100, 100, {}});
    latency = recorder_.waitForSnapshot([](const auto& p) { return p.routes.size() == 1; }, t0);
    ASSERT_TRUE(latency);
    EXPECT_LT(*latency, 1000ms);

    t0 = now();
    store.setParam("SS_SIP_TIMEOUT_INVITE", "7");
    latency = recorder_.waitForSnapshot(
        [](const auto& p) { return p.params.count("SS_SIP_TIMEOUT_INVITE") == 1; }, t0);
    ASSERT_TRUE(latency);
    EXPECT_LT(*latency, 1000ms);
    std::cout << "param set -> snapshot: " << latency->count() << " ms\n";
    EXPECT_TRUE(recorder_.errorList().empty());
}

TEST_F(ProvisioningWatcherTest, ABurstOfFiftyChangesCostsAFewLoads)
{
    start();
    const std::size_t before = recorder_.snapshotCount();
    const auto t0 = now();
    {
        pqxx::connection conn(dsn_);
        for (int i = 1; i <= 50; ++i) {
            pqxx::work txn(conn);  // one transaction, so one NOTIFY, per change
            txn.exec0("INSERT INTO gateway (name, role, host) VALUES ('g" + std::to_string(i) +
                      "', 'termination', '10.0.0." + std::to_string(i) + "')");
            txn.commit();
        }
    }
    const auto burst = std::chrono::duration_cast<common::Millis>(now() - t0);
    const auto latency =
        recorder_.waitForSnapshot([](const auto& p) { return p.gateways.size() == 50; }, t0);
    ASSERT_TRUE(latency);
    EXPECT_LT(*latency, burst + 1000ms);
    // Let any load still under way finish before counting.
    watcher_->stop();
    const std::size_t loads = recorder_.snapshotCount() - before;
    std::cout << "50 changes in " << burst.count() << " ms -> " << loads << " load(s), last "
              << latency->count() << " ms after the first change\n";
    EXPECT_GE(loads, 1u);
    EXPECT_LE(loads, 10u);
}

// As a script of swctl commands does it: a connection and a transaction per change.
TEST_F(ProvisioningWatcherTest, AScriptOfFiftyStoreChangesCostsFarFewerLoads)
{
    start();
    const std::size_t before = recorder_.snapshotCount();
    cdr::AdminStore store(dsn_);
    const auto t0 = now();
    for (int i = 1; i <= 50; ++i) {
        store.setParam("SS_SIP_TIMEOUT_INVITE", std::to_string(i));
    }
    const auto burst = std::chrono::duration_cast<common::Millis>(now() - t0);
    const auto latency = recorder_.waitForSnapshot(
        [](const auto& p) {
            const auto it = p.params.find("SS_SIP_TIMEOUT_INVITE");
            return it != p.params.end() && it->second == "50";
        },
        t0);
    ASSERT_TRUE(latency);
    EXPECT_LT(*latency, burst + 1000ms);
    watcher_->stop();
    const std::size_t loads = recorder_.snapshotCount() - before;
    std::cout << "50 store changes in " << burst.count() << " ms -> " << loads << " load(s)\n";
    // Changes spread over time may each deserve a load; never more than one per coalescing
    // window (50 ms, plus the start and the end), and fewer than one per change.
    const auto perWindow = static_cast<std::size_t>(burst / 50ms) + 2;
    EXPECT_LE(loads, std::min<std::size_t>(perWindow, 49));
}

TEST_F(ProvisioningWatcherTest, ReconnectsAfterItsConnectionIsKilledAndReloadsEverything)
{
    start();
    const auto t0 = now();
    const auto killed = scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'softswitchd-provisioning'");
    ASSERT_NE(killed, "0");
    // Made while the watcher is disconnected: its NOTIFY reaches nobody, the reload must.
    cdr::AdminStore(dsn_).addGateway(gateway("while-down"));

    const auto latency = recorder_.waitForSnapshot(
        [](const auto& p) { return hasGateway(p, "while-down"); }, t0);
    ASSERT_TRUE(latency);
    std::cout << "killed -> fresh snapshot: " << latency->count() << " ms\n";
    EXPECT_LT(*latency, 2000ms);  // 0.5 s backoff, then connect and load
    ASSERT_TRUE(recorder_.waitUntil([&] { return !recorder_.errors.empty(); }));
    EXPECT_THAT(recorder_.errorList().front(), HasSubstr("lost the database connection"));
    EXPECT_THAT(recorder_.errorList().front(), HasSubstr("reconnecting in 0.5 s"));

    // And it listens again.
    const auto t1 = now();
    cdr::AdminStore(dsn_).addGateway(gateway("after"));
    const auto again =
        recorder_.waitForSnapshot([](const auto& p) { return hasGateway(p, "after"); }, t1);
    ASSERT_TRUE(again);
    EXPECT_LT(*again, 1000ms);
}

TEST_F(ProvisioningWatcherTest, AFailedReloadIsReportedAndTheWatcherKeepsListening)
{
    start();
    const std::size_t before = recorder_.snapshotCount();
    sql("INSERT INTO schema_version (version, name) VALUES (9001, '9001_future.sql')");
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_SEND_RETRY', '3')");
    ASSERT_TRUE(recorder_.waitUntil([&] { return !recorder_.errors.empty(); }));
    EXPECT_THAT(recorder_.errorList().front(), HasSubstr("reload failed"));
    EXPECT_THAT(recorder_.errorList().front(), HasSubstr("9001"));
    EXPECT_EQ(recorder_.snapshotCount(), before);

    sql("DELETE FROM schema_version WHERE version = 9001");
    sql("UPDATE param SET value = '4'");
    ASSERT_TRUE(recorder_.waitForSnapshot(
        [](const auto& p) { return p.params.count("SS_SIP_SEND_RETRY") == 1; }, now()));
    EXPECT_EQ(recorder_.errorList().size(), 1u);
}

TEST_F(ProvisioningWatcherTest, StopReturnsPromptlyAndIsIdempotent)
{
    start();
    const auto t0 = now();
    watcher_->stop();
    const auto took = std::chrono::duration_cast<common::Millis>(now() - t0);
    std::cout << "stop() while listening: " << took.count() << " ms\n";
    EXPECT_LT(took, 200ms);
    watcher_->stop();
    const std::size_t after = recorder_.snapshotCount();
    sql("INSERT INTO param (name, value) VALUES ('SS_SIP_SEND_RETRY', '3')");
    watcher_.reset();
    EXPECT_EQ(recorder_.snapshotCount(), after);  // nothing after stop()
}

TEST(ProvisioningWatcherOffline, ReportsThatItCannotConnectAndStopsPromptlyInBackoff)
{
    Recorder recorder;
    common::SystemClock clock;
    cdr::ProvisioningWatcher watcher(kUnreachableDsn, recorder.snapshotHandler(),
                                     recorder.errorHandler());
    ASSERT_TRUE(recorder.waitUntil([&] { return recorder.errors.size() >= 2; }));
    const auto t0 = clock.monotonicNow();
    watcher.stop();  // waiting 1 s before the next attempt
    EXPECT_LT(clock.monotonicNow() - t0, 200ms);
    EXPECT_THAT(recorder.errors[0], HasSubstr("cannot connect"));
    EXPECT_THAT(recorder.errors[0], HasSubstr("reconnecting in 0.5 s"));
    EXPECT_THAT(recorder.errors[1], HasSubstr("reconnecting in 1 s"));  // doubling
    EXPECT_TRUE(recorder.snapshots.empty());
}

}  // namespace
}  // namespace ss::pgtest
