// SPDX-License-Identifier: Apache-2.0
// softswitchd: the composition root. Parses options, connects the database (or starts the
// embedded cluster), builds the routing snapshot, the CDR writer and the SIP runtime, and runs
// the sip-loop on the main thread until SIGTERM/SIGINT.

#include "cdr/call_journal.h"
#include "cdr/cdr_writer.h"
#include "cdr/embedded_postgres.h"
#include "cdr/partition_maintainer.h"
#include "cdr/provisioning_watcher.h"
#include "cdr/store.h"
#include "common/clock.h"
#include "common/config_error.h"
#include "common/log.h"
#include "routing/routing_table.h"
#include "switch/call_manager.h"
#include "switch/sofia/sofia_runtime.h"
#include "web/admin_api.h"
#include "web/api.h"
#include "web/http_server.h"
#include "web/token.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

namespace {

/// The typed parameters from a provisioning snapshot; invalid stored values are logged and
/// replaced by their defaults (swctl refuses them, so this only guards hand-edited rows).
std::shared_ptr<const ss::common::SwitchParams> paramsOf(const ss::common::Provisioning& p)
{
    std::vector<std::string> errors;
    auto params = std::make_shared<const ss::common::SwitchParams>(
        ss::common::SwitchParams::fromStored(p.params, &errors));
    for (const auto& error : errors) {
        ss::common::logger("main")->error("param table: {}", error);
    }
    return params;
}

/// The signals softswitchd takes by sigwait on its signal thread (SIGUSR2 = internal wake-up).
sigset_t handledSignals()
{
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) {
        sigaddset(&set, sig);
    }
    return set;
}

/// One SIP thread (`--sip-threads`): its sofia runtime and the calls it holds. Thread 0 is the
/// main thread; the others run on `thread`.
struct SipThread {
    std::unique_ptr<ss::sig::SofiaRuntime> runtime;
    std::unique_ptr<ss::sig::CallManager> calls;
    std::thread thread;
};
using SipThreads = std::vector<std::unique_ptr<SipThread>>;

/// Applies a provisioning snapshot: routing, parameters and stack timers together, so a call
/// never sees routes from one snapshot and parameters from another. The table is built (and
/// its host names resolved, which may block) by the caller, off the sip-loop. Thread: the SIP
/// thread's sip-loop (or before it runs).
void apply(SipThread& sip, std::shared_ptr<const ss::routing::RoutingTable> table)
{
    const auto params = paramsOf(table->provisioning());
    sip.calls->setRoutingTable(std::move(table));
    sip.calls->setParams(params);
    sip.runtime->setStackTimers(params->stackTimers());
}

/// apply() from another thread (the watcher, the signal thread) on every SIP thread: the table
/// is built here, then installed on each sip-loop. A snapshot whose stored parameters do not
/// validate (written by other means than swctl) is refused whole and the switch keeps the one
/// it has; returns false then.
bool install(const SipThreads& sips, ss::common::Provisioning provisioning)
{
    std::vector<std::string> errors;
    ss::common::SwitchParams::fromStored(provisioning.params, &errors);
    if (!errors.empty()) {
        for (const auto& error : errors) {
            ss::common::logger("main")->error("reload refused, keeping the running snapshot: "
                                              "param table: {}", error);
        }
        return false;
    }
    std::shared_ptr<const ss::routing::RoutingTable> table =
        ss::routing::RoutingTable::build(std::move(provisioning));
    for (const auto& sip : sips) {
        sip->runtime->post([s = sip.get(), table] { apply(*s, table); });
    }
    return true;
}

struct Options {
    std::string db;
    std::string sip = "udp:0.0.0.0:5060,tcp:0.0.0.0:5060";
    std::string http;
    std::string httpTokenFile;
    std::string node;
    std::string spool;
    std::string stateDir = "/var/lib/softswitch";
    std::string logLevel = "info";
    std::string readyFile;
    std::string schemaDir;
    int drainSeconds = 30;
    unsigned sipThreads = 1;
    bool sipTrace = false;
};

std::string hostName()
{
    char buf[256] = {};
    return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("softswitch");
}

std::string defaultSchemaDir()
{
    if (const char* env = std::getenv("SOFTSWITCH_SCHEMA_DIR")) {
        return env;
    }
#ifdef SS_SOURCE_SCHEMA_DIR
    if (std::filesystem::exists(SS_SOURCE_SCHEMA_DIR)) {
        return SS_SOURCE_SCHEMA_DIR;
    }
#endif
    return "/usr/local/share/softswitch/schema";
}

/// Writes `path` atomically (tmp + rename) so a test harness never reads half a file.
void writeReadyFile(const std::string& path, const std::vector<ss::sig::ListenPoint>& bound,
                    const std::string& http)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        for (const auto& lp : bound) {
            out << "sip." << ss::common::toString(lp.transport) << "=" << lp.ip << ":" << lp.port
                << "\n";
        }
        if (!http.empty()) {
            out << "http=" << http << "\n";
        }
        out << "pid=" << ::getpid() << "\n";
    }
    std::filesystem::rename(tmp, path);
}

/// `--http IP:PORT` (`[IPv6]:PORT`, or PORT alone for 127.0.0.1) as the server's address
/// and port. Throws ConfigError.
ss::web::HttpServerConfig parseHttpAddress(std::string text)
{
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        text = "127.0.0.1:" + text;  // a port alone: loopback (SPEC: 127.0.0.1 by default)
    }
    const auto colon = text.rfind(':');
    std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = -1;
    try {
        std::size_t used = 0;
        const std::string digits = colon == std::string::npos ? "" : text.substr(colon + 1);
        port = std::stoi(digits, &used);
        if (used != digits.size()) {
            port = -1;
        }
    } catch (const std::exception&) {
    }
    if (host.empty() || port < 0 || port > 65535) {
        throw ss::ConfigError("--http '" + text + "': expected IP:PORT or PORT (e.g. "
                              "127.0.0.1:8088, [::1]:8088, 8088 = 127.0.0.1:8088; port 0 = any "
                              "free port)");
    }
    ss::web::HttpServerConfig config;
    config.address = host;
    config.port = static_cast<std::uint16_t>(port);
    return config;
}

/// `host:port` as clients write it.
std::string httpAddress(const std::string& host, std::uint16_t port)
{
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

/// SIGTERM drain (SPEC §1) on one SIP thread: refuse new calls with 503, let calls finish for
/// up to `drain`, then end the rest with BYE (`switch`/`shutdown`), and stop the loop once
/// every SIP thread's calls are gone (`drained` counts the threads that have none left; a
/// thread keeps reading its sockets until then, so a new call steered to it still gets 503).
void startDrain(SipThread& sip, std::chrono::seconds drain, const ss::common::Clock& clock,
                std::shared_ptr<std::atomic<unsigned>> drained, unsigned threads)
{
    auto& runtime = *sip.runtime;
    auto& calls = *sip.calls;
    calls.stopAccepting();
    const auto deadline = clock.monotonicNow() + drain;
    auto check = std::make_shared<std::function<void()>>();
    *check = [&runtime, &calls, &clock, deadline, check, drained, threads, ended = false,
              counted = false]() mutable {
        if (calls.activeCalls() == 0 && !counted) {
            counted = true;
            drained->fetch_add(1);
        }
        if (drained->load() == threads) {
            runtime.stop();
            return;
        }
        if (!ended && clock.monotonicNow() >= deadline) {
            calls.terminateAll("shutdown");
            ended = true;
        }
        runtime.timers().schedule(clock.monotonicNow() + std::chrono::milliseconds(50),
                                  [check] { (*check)(); });
    };
    (*check)();
}

int run(const Options& opt)
{
    auto log = ss::common::logger("main");
    ss::common::SystemClock clock;

    std::optional<ss::cdr::EmbeddedPostgres> embedded;
    std::string dsn = opt.db;
    if (dsn.empty()) {
        embedded.emplace(opt.stateDir + "/pg");
        dsn = embedded->start();
        const int version = ss::cdr::migrate(dsn, opt.schemaDir.empty() ? defaultSchemaDir()
                                                                        : opt.schemaDir);
        log->info("embedded PostgreSQL under {}/pg, schema version {}", opt.stateDir, version);
    }
    const auto provisioning = ss::cdr::loadProvisioning(dsn);
    log->info("loaded {} gateways, {} routes", provisioning.gateways.size(),
              provisioning.routes.size());

    ss::cdr::CdrWriterConfig writerConfig;
    writerConfig.spoolDir = opt.spool.empty() ? opt.stateDir + "/spool" : opt.spool;
    auto writer = ss::cdr::makeCdrWriter(ss::cdr::makePgCdrSink(dsn), writerConfig);

    // Crash recovery (issue 5 §3): what the last run's journal holds is written again before
    // a new journal replaces it — ended calls as they ended (the database ignores the ones it
    // has), calls that were in progress as switch/switch_restart at their last heartbeat.
    const auto recovered = ss::cdr::CallJournal::recover(writerConfig.spoolDir);
    for (auto record : recovered) {
        writer->submit(std::move(record));
    }
    if (!recovered.empty()) {
        writer->flush();
        log->warn("crash recovery: {} CDRs from the last run's journal written or spooled",
                  recovered.size());
    }
    // Daily CDR partitions ahead, and SS_CDR_RETENTION_DAYS, every hour (schema/0003).
    ss::cdr::PartitionMaintainer partitions(dsn, std::chrono::hours(1));
    auto journal = std::make_unique<ss::cdr::CallJournal>(
        writerConfig.spoolDir, [&writer] { return writer->deliveredCount(); });

    // The SIP threads (--sip-threads), made one after the other on the threads that run them:
    // thread 0 is this one and binds the listen points as given; the others join the ports it
    // got (SO_REUSEPORT), and the last one switches on the steering of new calls.
    const auto listen = ss::sig::parseListenPoints(opt.sip);
    const auto gateways = std::make_shared<ss::sig::SharedGateways>();
    const auto initialTable = ss::routing::RoutingTable::build(provisioning);
    const ss::sig::CallManagerConfig callConfig{opt.node.empty() ? hostName() : opt.node, gateways,
                                                true};
    auto makeSipThread = [&](const std::vector<ss::sig::ListenPoint>& points, unsigned index) {
        auto sip = std::make_unique<SipThread>();
        sip->runtime = std::make_unique<ss::sig::SofiaRuntime>(
            points, clock, ss::sig::SipShard{index, opt.sipThreads});
        if (opt.sipTrace) {
            sip->runtime->enableSipTrace();
        }
        auto config = callConfig;
        config.probes = index == 0;  // one thread probes for all (the health is shared)
        sip->calls = std::make_unique<ss::sig::CallManager>(
            sip->runtime->stack(), clock, sip->runtime->timers(),
            [&writer](ss::cdr::CdrRecord&& record) { return writer->submit(std::move(record)); },
            std::move(config));
        sip->calls->setJournal(journal.get());
        sip->calls->setOverloadProbe(
            [runtime = sip->runtime.get()] { return runtime->receiveBacklog(); });
        apply(*sip, initialTable);  // before any SIP
        sip->runtime->setEvents(sip->calls.get());
        return sip;
    };
    SipThreads sips;
    sips.push_back(makeSipThread(listen, 0));
    if (opt.sipTrace) {
        log->info("--sip-trace: every SIP message is logged (logger siptrace)");
    }
    // Each further thread waits here for the main thread's word to tear down, so nothing it
    // owns goes away while the HTTP API may still post to it.
    std::promise<void> teardown;
    std::shared_future<void> teardownGo = teardown.get_future().share();
    auto joinSipThreads = [&] {  // once their loops have stopped
        teardown.set_value();
        for (const auto& sip : sips) {
            if (sip->thread.joinable()) {
                sip->thread.join();
            }
        }
    };
    for (unsigned index = 1; index < opt.sipThreads; ++index) {
        std::promise<std::unique_ptr<SipThread>> made;
        auto madeFuture = made.get_future();
        std::thread thread([&, index, made = std::move(made)]() mutable {
            // Named for top -H and the benchmark's per-thread CPU (tests/load/sip_bench.py).
            pthread_setname_np(pthread_self(), ("sip-loop-" + std::to_string(index)).c_str());
            std::unique_ptr<SipThread> sip;
            try {
                sip = makeSipThread(sips.front()->runtime->bound(), index);
            } catch (...) {
                made.set_exception(std::current_exception());
                return;
            }
            SipThread& self = *sip;
            made.set_value(std::move(sip));
            self.runtime->run();
            teardownGo.wait();
            self.calls->setJournal(nullptr);
            self.calls->setOverloadProbe(nullptr);
            self.calls.reset();
            self.runtime.reset();
        });
        try {
            sips.push_back(madeFuture.get());
        } catch (...) {
            thread.join();
            // The threads already running stop and tear down before the error goes up.
            for (const auto& sip : sips) {
                sip->runtime->stop();
            }
            joinSipThreads();
            throw;
        }
        sips.back()->thread = std::move(thread);
    }
    if (opt.sipThreads > 1) {
        std::string homes;
        for (const auto& sip : sips) {
            for (const auto& lp : sip->runtime->home()) {
                homes += (homes.empty() ? "" : ", ") + ss::common::toString(lp.transport) + ":" +
                         lp.ip + ":" + std::to_string(lp.port);
            }
        }
        log->info("{} SIP threads; their own ports (Contact, requests sent): {}", opt.sipThreads,
                  homes);
    }
    auto& runtime = *sips.front()->runtime;

    // Live reload (SPEC §1): swctl changes arrive by LISTEN/NOTIFY within a second; calls in
    // progress keep the snapshot they started with. A lost database leaves the switch on its
    // last snapshot until the watcher reconnects and reloads.
    ss::cdr::ProvisioningWatcher watcher(
        dsn,
        [&](ss::common::Provisioning provisioning) {
            // Counted before the snapshot moves to the sip-loop.
            const auto gateways = provisioning.gateways.size();
            const auto routes = provisioning.routes.size();
            const auto params = provisioning.params.size();
            if (install(sips, std::move(provisioning))) {
                log->info("provisioning reloaded: {} gateways, {} routes, {} parameters set",
                          gateways, routes, params);
            }
        },
        [&](const std::string& error) { log->warn("provisioning watcher: {}", error); });

    // The HTTP API (SPEC §1): live state copied on the sip-loop, the database through its own
    // AdminStore, behind a bearer token that never comes from argv.
    std::unique_ptr<ss::web::Api> api;
    std::unique_ptr<ss::web::HttpServer> http;
    std::string httpBound;
    if (!opt.http.empty()) {
        auto config = parseHttpAddress(opt.http);
        std::filesystem::create_directories(opt.stateDir);
        const char* env = std::getenv(ss::web::kTokenEnv);
        const std::string token = ss::web::loadToken(
            opt.httpTokenFile, env ? std::optional<std::string>(env) : std::nullopt,
            opt.stateDir + "/http.token");
        ss::web::ApiBackend backend;
        const auto startedAt = clock.systemNow();
        backend.live = [&sips, &writer, startedAt] {
            std::vector<std::future<ss::common::LiveState>> copies;
            for (const auto& sip : sips) {
                auto promise = std::make_shared<std::promise<ss::common::LiveState>>();
                copies.push_back(promise->get_future());
                sip->runtime->post([calls = sip->calls.get(), promise] {
                    promise->set_value(calls->liveState());
                });
            }
            std::vector<ss::common::LiveState> states;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            for (auto& copy : copies) {
                if (copy.wait_until(deadline) != std::future_status::ready) {
                    throw std::runtime_error("a sip-loop did not answer within 2 s");
                }
                states.push_back(copy.get());
            }
            auto state = ss::sig::CallManager::merge(std::move(states));
            state.startedAt = startedAt;
            state.counters.cdrQueueDepth = writer->queueDepth();
            state.counters.cdrSpoolBytes = writer->spoolBytes();
            state.counters.cdrDelivered = writer->deliveredCount();
            return state;
        };
        backend.admin = std::make_shared<ss::web::AdminStoreApi>(dsn);
        if (const char* ui = std::getenv("SOFTSWITCH_UI_DIR"); ui != nullptr && *ui != '\0') {
            backend.uiDir = ui;  // the page's files from disk, for work on the page
            log->warn("serving the web page from {} (SOFTSWITCH_UI_DIR), not the built-in one",
                      backend.uiDir);
        }
        api = std::make_unique<ss::web::Api>(std::move(backend), token, clock);
        http = std::make_unique<ss::web::HttpServer>(
            config, [a = api.get()](const ss::web::Request& r) { return a->handle(r); });
        http->start();
        httpBound = httpAddress(config.address, http->port());
        log->info("web page on http://{}/, HTTP API on http://{}/api/v1/ (token: {})", httpBound,
                  httpBound,
                  !opt.httpTokenFile.empty() ? opt.httpTokenFile
                  : env != nullptr          ? std::string("$") + ss::web::kTokenEnv
                                            : opt.stateDir + "/http.token");
    }

    // Signals are taken by one thread with sigwait (blocked everywhere else) and turned into
    // closures posted to the sip-loop.
    std::thread signals([&] {
        const sigset_t set = handledSignals();
        while (true) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) {
                continue;
            }
            if (sig == SIGHUP) {
                try {
                    if (install(sips, ss::cdr::loadProvisioning(dsn))) {
                        log->info("SIGHUP: gateways, routes and parameters reloaded");
                    }
                } catch (const std::exception& e) {
                    log->error("SIGHUP: reload failed, keeping the old routing: {}", e.what());
                }
                continue;
            }
            if (sig == SIGUSR2) {
                return;  // our own wake-up at exit
            }
            log->info("signal {}: draining (up to {} s)", sig, opt.drainSeconds);
            const auto drained = std::make_shared<std::atomic<unsigned>>(0);
            for (const auto& sip : sips) {
                sip->runtime->post([&, s = sip.get(), drained] {
                    startDrain(*s, std::chrono::seconds(opt.drainSeconds), clock, drained,
                               opt.sipThreads);
                });
            }
            return;
        }
    });

    for (const auto& lp : runtime.bound()) {
        log->info("listening on {}:{}:{}", ss::common::toString(lp.transport), lp.ip, lp.port);
    }
    if (!opt.readyFile.empty()) {
        writeReadyFile(opt.readyFile, runtime.bound(), httpBound);
    }
    runtime.run();

    // Before anything the API reads goes away (a live() in progress waits on the sip-loop).
    if (http) {
        http->stop();
    }

    watcher.stop();
    partitions.stop();
    pthread_kill(signals.native_handle(), SIGUSR2);
    signals.join();
    // The other SIP threads stopped with this one (startDrain); they tear down on their own.
    joinSipThreads();
    writer->stop();
    // Every call ended and every CDR is in the database or the spool: nothing to recover.
    sips.front()->calls->setJournal(nullptr);
    sips.front()->calls->setOverloadProbe(nullptr);
    const std::string journalPath = journal->path();
    journal.reset();
    std::filesystem::remove(journalPath);
    log->info("stopped; every CDR is written or spooled");
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    // Block the signals we sigwait for before any thread exists, so every thread inherits it.
    const sigset_t set = handledSignals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    Options opt;
    CLI::App app{"softswitchd: carrier SIP softswitch (B2BUA) with billing-grade CDRs"};
    app.set_config("--config", "", "Read options from this file (flags win)");
    app.add_option("--db", opt.db,
                   "libpq connection string; without it a private PostgreSQL runs under "
                   "--state-dir");
    app.add_option("--sip", opt.sip, "Listen points, e.g. udp:0.0.0.0:5060,tcp:0.0.0.0:5060")
        ->capture_default_str();
    app.add_option("--http", opt.http,
                   "HTTP API IP:PORT, or PORT for 127.0.0.1 (off when not given); its bearer "
                   "token comes from --http-token-file, $SOFTSWITCH_HTTP_TOKEN, or is generated "
                   "into STATE_DIR/http.token");
    app.add_option("--http-token-file", opt.httpTokenFile,
                   "File holding the HTTP API token (never on the command line)");
    app.add_option("--node", opt.node, "Node name written into every CDR (default: hostname)");
    app.add_option("--spool", opt.spool, "CDR spool directory (default: STATE_DIR/spool)");
    app.add_option("--state-dir", opt.stateDir, "State directory")->capture_default_str();
    app.add_option("--log-level", opt.logLevel, "trace, debug, info, warn, error")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--ready-file", opt.readyFile,
                   "Write bound addresses and pid here once ready (for supervisors and tests)");
    app.add_option("--schema-dir", opt.schemaDir, "Migrations for the embedded database");
    app.add_flag("--sip-trace", opt.sipTrace,
                 "Log every SIP message sent and received, whole (logger `siptrace`, info)");
    app.add_option("--sip-threads", opt.sipThreads,
                   "SIP threads, each with its own sofia-sip agent and the calls it took; new "
                   "calls are spread over them by their Request-URI (README \"SIP threads\")")
        ->capture_default_str()
        ->check(CLI::Range(1u, 16u));
    app.add_option("--drain-seconds", opt.drainSeconds,
                   "On SIGTERM, how long active calls may go on before they are ended")
        ->capture_default_str()
        ->check(CLI::Range(0, 86400));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    ss::common::setLogLevel(opt.logLevel);
    try {
        return run(opt);
    } catch (const ss::ConfigError& e) {
        ss::common::logger("main")->error("{}", e.what());
        return 1;
    } catch (const std::exception& e) {
        ss::common::logger("main")->error("fatal: {}", e.what());
        return 1;
    }
}
