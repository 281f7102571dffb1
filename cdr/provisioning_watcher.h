// SPDX-License-Identifier: Apache-2.0
#pragma once

// Live reload (SPEC §1: a swctl change reaches a running softswitchd within 1 s). Every change
// to gateway, route or param raises NOTIFY on kProvisioningChannel (cdr/store.h); the watcher
// LISTENs on its own connection and hands fresh snapshots to the switch. No pqxx type here.

#include "common/provisioning.h"

#include <functional>
#include <memory>
#include <string>

namespace ss::cdr {

/// Watches the provisioning tables on a thread of its own. Behaviour:
/// - connects, LISTENs, then loads a full snapshot (loadProvisioning) and delivers it, so a
///   change made between the caller's own start-up load and the LISTEN is not missed; the
///   first snapshot therefore arrives shortly after construction;
/// - after a notification waits 50 ms for more and then loads once, so a burst of
///   changes (a script of swctl commands) costs a few loads, not one per change;
/// - when the connection is lost (or a load finds the database unreachable) reports it through
///   onError, reconnects after 0.5 s, doubling up to 5 s while that fails, and after
///   reconnecting delivers a full snapshot (changes may have been missed meanwhile);
/// - a load that fails otherwise (e.g. the schema version changed) is reported through onError
///   and the watcher keeps listening; the caller keeps its current snapshot.
/// TCP keepalives are turned on (unless `dsn` sets them), so a silently dead server is noticed
/// within about half a minute, and connection attempts time out after 5 s.
///
/// Both callbacks run on the watcher's thread, one at a time, never after stop() returned.
/// They must not block for long (post to the owner's loop) and must not call stop().
/// Exceptions they throw are caught and logged.
class ProvisioningWatcher {
public:
    using SnapshotHandler = std::function<void(common::Provisioning)>;
    using ErrorHandler = std::function<void(const std::string&)>;

    /// Starts the watcher thread; never throws for database problems (they go to onError).
    ProvisioningWatcher(const std::string& dsn, SnapshotHandler onSnapshot, ErrorHandler onError);
    /// stop().
    ~ProvisioningWatcher();
    ProvisioningWatcher(const ProvisioningWatcher&) = delete;
    ProvisioningWatcher& operator=(const ProvisioningWatcher&) = delete;

    /// Stops and joins the thread. Returns at once when the watcher is waiting; when it is
    /// inside a load or a connection attempt, once that ends (bounded by the 5 s connect
    /// timeout when the server does not answer). Idempotent. Thread: any but the watcher's.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ss::cdr
