// SPDX-License-Identifier: Apache-2.0
#pragma once

// Administration of provisioning and CDR queries, for swctl (and later the web API). Plain
// records only; all PostgreSQL access is in cdr/pg/*.cpp.

#include "cdr/cdr_record.h"
#include "common/clock.h"
#include "common/provisioning.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ss::cdr {

/// Filters of `swctl cdr query` (SPEC §1). Unset or empty members do not filter.
struct CdrQuery {
    std::optional<common::SysTime> since;  // setup_at >= since
    std::optional<common::SysTime> until;  // setup_at < until
    std::string callerPrefix;              // caller starts with this
    std::string calleePrefix;              // callee (as received) starts with this
    std::string gateway;                   // term_gateway or origin_gateway equals this
    std::optional<EndDirection> endDirection;
    std::optional<int> sipCode;
    std::string endReason;  // exact SPEC §4 end_reason
    int limit = 100;        // newest first
    /// Keyset paging: only calls older than this one in the order (setup_at, id) descending —
    /// the last row of the page before, so each page costs the same however deep it is.
    struct Cursor {
        common::SysTime setupAt{};
        std::int64_t id = 0;
    };
    std::optional<Cursor> before;
};

/// One stored `cdr` row, as read back (SPEC §4 column names in comments where they differ).
struct CdrRow {
    std::int64_t id = 0;
    std::string node;
    std::string callId;  // call_id
    std::string caller;
    std::string callee;
    std::string calleeOut;      // callee_out
    std::string originGateway;  // origin_gateway
    std::string originAddr;     // origin_addr
    std::string termGateway;    // term_gateway
    std::string termAddr;       // term_addr
    int attempts = 0;
    common::SysTime setupAt{};  // setup_at, millisecond precision
    std::optional<common::SysTime> ringAt;
    std::optional<common::SysTime> answerAt;
    common::SysTime endAt{};
    std::int64_t pddMs = 0;
    std::int64_t holdMs = 0;
    std::string endDirection;  // caller | callee | switch
    std::string endReason;
    std::string disposition;
    int sipCode = 0;
    std::string sipReason;
    int q850Cause = 0;
};

/// One call as `swctl cdr show` reads it: its `cdr` row and its failover chain.
struct CdrDetail {
    CdrRow cdr;
    std::vector<CdrAttempt> attempts;  // cdr_attempt rows by seq; times in milliseconds
};

/// How `swctl cdr stats` groups calls.
enum class StatsGroup {
    Gateway,       // term_gateway; calls that reached no gateway under "-"
    Code,          // the call's final sip_code
    Reason,        // end_reason
    EndDirection,  // end_direction
};

/// `swctl cdr stats`: calls set up in [since, until). The whole UTC hours of the range are read
/// from the hourly rollup that the CDR sink keeps (schema/0004 cdr_rollup), the partial hours
/// at its ends from the calls themselves; the figures are the same either way.
struct CdrStatsQuery {
    common::SysTime since{};
    std::optional<common::SysTime> until;  // none: up to now and beyond
    StatsGroup by = StatsGroup::Gateway;
    int topFailures = 5;  // failure pairs listed per group
    bool hourly = false;  // one row per (UTC hour, group) that has calls, by hour then calls
};

/// Unanswered calls of a group that ended with one end_reason and sip_code.
struct FailureCount {
    std::string endReason;
    int sipCode = 0;
    std::int64_t calls = 0;
};

/// The diagnosis figures of one group of calls. "Answered": answer_at is set.
/// NER counts the calls the network delivered: answered, or ended by the users' side —
/// end_reason caller_cancel or timeout_ringing (it rang, nobody answered), or callee_rejected
/// with sip_code 480, 486, 487, 600 or 603 (unavailable, busy, cancelled, decline).
struct CdrStatsRow {
    std::optional<common::SysTime> hour;  // the UTC hour (CdrStatsQuery::hourly), else nullopt
    std::string group;               // see StatsGroup; sip_code as decimal text
    std::int64_t calls = 0;          // calls in the group (the attempts of ASR)
    std::int64_t answered = 0;
    std::int64_t answeredHoldMs = 0;  // sum of hold_ms of the answered calls
    std::int64_t effective = 0;       // NER numerator (above)
    // percentile_disc 0.5 / 0.95 of pdd_ms over the calls with ring_at or answer_at set (the
    // smallest pdd_ms at or below which that share of them lie), read from a histogram
    // (schema/0004 cdr_pdd_bucket): exact below 128 ms; above, each [2^e, 2^(e+1)) ms is cut
    // into 64 buckets and the value reported is the highest of the bucket holding the
    // percentile_disc — at least the exact value and at most 1/64 (1.6 %) above it.
    // nullopt: none rang.
    std::optional<std::int64_t> pddP50Ms;
    std::optional<std::int64_t> pddP95Ms;
    std::vector<FailureCount> failures;  // most frequent first (then by reason, code)

    double asr() const { return calls == 0 ? 0.0 : double(answered) / double(calls); }
    double ner() const { return calls == 0 ? 0.0 : double(effective) / double(calls); }
    /// Mean hold time of the answered calls in seconds; nullopt when none was answered.
    std::optional<double> acdSeconds() const
    {
        if (answered == 0) {
            return std::nullopt;
        }
        return double(answeredHoldMs) / double(answered) / 1000.0;
    }
};

/// A change to some fields of one gateway (`swctl gateway set`); unset members stay as they
/// are. The gateway's name and role cannot be changed.
struct GatewayChanges {
    std::optional<std::string> host;
    /// With `host`: nullopt gives the role's default port, as `gateway add` does (5060 for
    /// termination, 0 = any source port for origination). Without `host`: nullopt keeps it.
    std::optional<std::uint16_t> port;
    std::optional<common::Transport> transport;
    std::optional<int> capacity;  // 0 = unlimited
    std::optional<int> cps;       // 0 = unlimited
    std::optional<std::string> site;
    std::optional<int> prefixStrip;
    std::optional<std::string> prefixAdd;
    /// SPEC §3 options by key: the new value, or nullopt to remove the option (its default
    /// applies again).
    std::map<std::string, std::optional<std::string>> options;

    bool empty() const
    {
        return !host && !port && !transport && !capacity && !cps && !site && !prefixStrip &&
               !prefixAdd && options.empty();
    }
};

/// One row of the audit trail (table `audit`, schema/0005): one field of one object changed
/// through AdminStore. Rows of one change share `at` (the transaction's time).
struct AuditRow {
    std::int64_t id = 0;
    common::SysTime at{};      // millisecond precision
    std::string actor;         // who: "swctl:alice", the HTTP API's own name, ...
    std::string action;        // add | set | remove | enable | disable | reset
    std::string objectKind;    // gateway | route | param
    std::string objectName;    // gateway name, route id, parameter name
    /// The field changed: a `gateway set` key (host, port, transport, capacity, cps, site,
    /// prefix-strip, prefix-add, a SPEC §3 option key), `enabled`, or `value` for a parameter;
    /// nullopt when a whole object was added or removed (its values as a JSON object in
    /// newValue / oldValue).
    std::optional<std::string> field;
    std::optional<std::string> oldValue;  // nullopt: absent before (or the default applied)
    std::optional<std::string> newValue;  // nullopt: absent after
};

/// `swctl audit`: unset or empty members do not filter.
struct AuditQuery {
    std::optional<common::SysTime> since;  // at >= since
    std::string objectKind;                // gateway | route | param
    std::string objectName;
    int limit = 100;  // newest first
};

/// Reads and changes gateways, routes and parameters, and queries CDRs. Each call is one
/// transaction on a connection of its own, so an AdminStore may live long; writes that the
/// database refuses change nothing. Errors: DbUnavailable when the database cannot be reached, ConfigError for
/// other database failures, ValidationError (field named as on the swctl command line) when
/// the change is refused. Thread: one caller at a time per object.
class AdminStore {
public:
    /// Checks that the database is reachable and at expectedSchemaVersion(); throws
    /// DbUnavailable / ConfigError (naming both versions) otherwise.
    explicit AdminStore(std::string dsn);

    /// Who the audit rows of later changes name (e.g. "swctl:alice"); "unknown" until set,
    /// and for an empty name.
    void setActor(std::string actor);
    const std::string& actor() const { return actor_; }

    /// Stores a new gateway (`gateway.id` is ignored) and returns it as stored, with its id.
    /// ValidationError when the name is taken or a column constraint refuses a value.
    common::GatewayConfig addGateway(const common::GatewayConfig& gateway);
    /// All gateways, by name.
    std::vector<common::GatewayConfig> listGateways() const;
    std::optional<common::GatewayConfig> findGateway(const std::string& name) const;
    /// ValidationError when there is no such gateway or routes still use it.
    void removeGateway(const std::string& name);
    /// Enables or disables a gateway (a disabled gateway is neither tried nor matched as an
    /// origin). Writes an audit row when the flag changes; setting the value it already has
    /// writes nothing (and so triggers no reload). ValidationError (field NAME) when there is
    /// no such gateway.
    void setGatewayEnabled(const std::string& name, bool enabled);
    /// Applies `changes` to one gateway in one transaction: all or nothing. Returns the
    /// gateway as stored; writes one audit row per field whose value changed (none, and no
    /// UPDATE, when nothing changes). Values are expected validated (switch/swctl/validate.h
    /// parseGatewayChanges); a value the schema still refuses is a ValidationError and
    /// nothing is written. ValidationError (field NAME) when there is no such gateway.
    common::GatewayConfig setGateway(const std::string& name, const GatewayChanges& changes);

    /// Stores a route to an existing termination gateway (`route.gateway` is its name) and
    /// returns it with its id. `route.siteOrder` is stored comma-joined in `route.site_order`.
    /// ValidationError when the gateway does not exist or is an origination gateway, the same
    /// prefix already routes to it, or a site name is empty or refused by the schema.
    common::RouteConfig addRoute(const common::RouteConfig& route);
    /// All routes, by prefix, priority, id, with their site order.
    std::vector<common::RouteConfig> listRoutes() const;
    /// ValidationError when there is no route with this id.
    void removeRoute(std::int64_t id);

    /// The stored parameter values (table `param`) by name; absent = default. May hold names
    /// or values that common/params.h refuses, written by other means than setParam().
    std::map<std::string, std::string> storedParams() const;
    /// Checks `value` with common::validateParam and stores its normalizeParam() spelling.
    /// Returns the value stored before (nullopt: none, the default applied). Storing the
    /// value already stored writes nothing (and so triggers no reload). ValidationError with
    /// validateParam's message (field NAME or VALUE) when refused; nothing is written then.
    std::optional<std::string> setParam(const std::string& name, const std::string& value);
    /// Deletes the stored value of `name`, so the default applies again. Returns the value
    /// removed (nullopt: none was stored). ValidationError (field NAME) when `name` is neither
    /// a SPEC §2 parameter nor stored (a stored unknown name can be removed this way).
    std::optional<std::string> resetParam(const std::string& name);

    /// CDRs matching `query`, newest (setup_at) first, at most `query.limit`.
    std::vector<CdrRow> queryCdrs(const CdrQuery& query) const;
    /// Every CDR with this call id (one per node that handled it; by setup_at, node, id),
    /// each with its `cdr_attempt` rows by seq. Empty when there is none.
    std::vector<CdrDetail> findCdrs(const std::string& callId) const;
    /// One CdrStatsRow per group that has calls in the range, most calls first (then by
    /// group). Two aggregate queries on one snapshot.
    std::vector<CdrStatsRow> cdrStats(const CdrStatsQuery& query) const;

    /// Audit rows matching `query`, newest first (by at, then id), at most `query.limit`.
    std::vector<AuditRow> listAudit(const AuditQuery& query) const;

private:
    std::string dsn_;
    std::string actor_ = "unknown";
};

}  // namespace ss::cdr
