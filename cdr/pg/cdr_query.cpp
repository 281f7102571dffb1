// SPDX-License-Identifier: Apache-2.0
// CDR queries (`swctl cdr query`, `swctl cdr show`, `swctl cdr stats`).

#include "cdr/admin_store.h"
#include "cdr/pg/pg_util.h"
#include "cdr/time_format.h"

#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace ss::cdr {

namespace {

// Times come back as epoch milliseconds: exact for timestamptz(3) and free of the session's
// TimeZone and DateStyle.
constexpr const char* kCdrSelect =
    "SELECT id, node, call_id, caller, callee, callee_out, origin_gateway, origin_addr, "
    "term_gateway, term_addr, attempts, "
    "(extract(epoch FROM setup_at) * 1000)::bigint, "
    "(extract(epoch FROM ring_at) * 1000)::bigint, "
    "(extract(epoch FROM answer_at) * 1000)::bigint, "
    "(extract(epoch FROM end_at) * 1000)::bigint, "
    "pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code, sip_reason, q850_cause "
    "FROM cdr WHERE true";

std::optional<common::SysTime> optionalTime(const pqxx::field& f)
{
    if (f.is_null()) {
        return std::nullopt;
    }
    return fromEpochMillis(f.as<std::int64_t>());
}

CdrRow toCdrRow(const pqxx::row& row)
{
    CdrRow r;
    r.id = row[0].as<std::int64_t>();
    r.node = row[1].as<std::string>();
    r.callId = row[2].as<std::string>();
    r.caller = row[3].as<std::string>();
    r.callee = row[4].as<std::string>();
    r.calleeOut = row[5].as<std::string>();
    r.originGateway = row[6].as<std::string>();
    r.originAddr = row[7].as<std::string>();
    r.termGateway = row[8].as<std::string>();
    r.termAddr = row[9].as<std::string>();
    r.attempts = row[10].as<int>();
    r.setupAt = fromEpochMillis(row[11].as<std::int64_t>());
    r.ringAt = optionalTime(row[12]);
    r.answerAt = optionalTime(row[13]);
    r.endAt = fromEpochMillis(row[14].as<std::int64_t>());
    r.pddMs = row[15].as<std::int64_t>();
    r.holdMs = row[16].as<std::int64_t>();
    r.endDirection = row[17].as<std::string>();
    r.endReason = row[18].as<std::string>();
    r.disposition = row[19].as<std::string>();
    r.sipCode = row[20].as<int>();
    r.sipReason = row[21].as<std::string>();
    r.q850Cause = row[22].as<int>();
    return r;
}

// cdr_attempt rows of the calls with one call id, as CdrAttempt after the cdr id. Joined on
// setup_at too: it is the attempts' partition key (schema/0003).
constexpr const char* kAttemptSelect =
    "SELECT a.cdr_id, a.seq, a.gateway, a.addr, a.transport, "
    "(extract(epoch FROM a.started_at) * 1000)::bigint, "
    "(extract(epoch FROM a.ended_at) * 1000)::bigint, "
    "a.sip_code, a.outcome "
    "FROM cdr_attempt a JOIN cdr c ON c.id = a.cdr_id AND c.setup_at = a.setup_at "
    "WHERE c.call_id = $1 ORDER BY a.cdr_id, a.seq";

CdrAttempt toAttempt(const pqxx::row& row)
{
    CdrAttempt a;
    a.seq = row[1].as<int>();
    a.gateway = row[2].as<std::string>();
    a.addr = row[3].as<std::string>();
    a.transport = row[4].as<std::string>();
    a.startedAt = fromEpochMillis(row[5].as<std::int64_t>());
    a.endedAt = fromEpochMillis(row[6].as<std::int64_t>());
    a.sipCode = row[7].is_null() ? 0 : row[7].as<int>();  // NULL: no final response
    a.outcome = row[8].as<std::string>();
    return a;
}

// Builds the WHERE clause and its parameters ($1, $2, ...) together.
class Filter {
public:
    std::string param(std::string value)
    {
        params_.push_back(std::move(value));
        return "$" + std::to_string(params_.size());
    }
    void add(const std::string& condition) { sql_ += " AND " + condition; }
    const std::string& sql() const { return sql_; }
    const std::vector<std::string>& params() const { return params_; }

private:
    std::string sql_;
    std::vector<std::string> params_;
};

Filter buildFilter(const CdrQuery& q)
{
    Filter f;
    if (q.since) {
        f.add("setup_at >= " + f.param(formatIsoMillis(*q.since)) + "::timestamptz");
    }
    if (q.until) {
        f.add("setup_at < " + f.param(formatIsoMillis(*q.until)) + "::timestamptz");
    }
    if (q.before) {
        // (setup_at, id) < cursor, written so the setup_at index and partition pruning apply.
        const auto at = f.param(formatIsoMillis(q.before->setupAt)) + "::timestamptz";
        const auto id = f.param(std::to_string(q.before->id)) + "::bigint";
        f.add("setup_at <= " + at + " AND (setup_at < " + at + " OR id < " + id + ")");
    }
    // starts_with, not LIKE: a caller may contain % or _.
    if (!q.callerPrefix.empty()) {
        f.add("starts_with(caller, " + f.param(q.callerPrefix) + ")");
    }
    if (!q.calleePrefix.empty()) {
        f.add("starts_with(callee, " + f.param(q.calleePrefix) + ")");
    }
    if (!q.gateway.empty()) {
        const auto p = f.param(q.gateway);
        f.add("(term_gateway = " + p + " OR origin_gateway = " + p + ")");
    }
    if (q.endDirection) {
        f.add("end_direction = " + f.param(toString(*q.endDirection)));
    }
    if (q.sipCode) {
        f.add("sip_code = " + f.param(std::to_string(*q.sipCode)) + "::integer");
    }
    if (!q.endReason.empty()) {
        f.add("end_reason = " + f.param(q.endReason));
    }
    return f;
}

// The group of a call in `cdr stats`, as text.
std::string groupExpression(StatsGroup by)
{
    switch (by) {
    case StatsGroup::Gateway:
        return "CASE WHEN term_gateway = '' THEN '-' ELSE term_gateway END";
    case StatsGroup::Code:
        return "sip_code::text";
    case StatsGroup::Reason:
        return "end_reason";
    case StatsGroup::EndDirection:
        return "end_direction";
    }
    return "end_direction";
}

// `cdr stats` reads whole UTC hours from cdr_rollup (schema/0004: kept by the CDR sink in the
// transaction that inserts the calls) and the calls of the partial hours at either end of the
// range from `cdr`, both in the same form: counts per (group, end_reason, sip_code) and a PDD
// histogram per group (cdr_pdd_bucket). {grp}, {rollup}, {raw} and {top} are filled in by
// fillIn(); {rollup} and {raw} are conditions on cdr_rollup.hour and cdr.setup_at.
//
// Counts per group and (end_reason, sip_code), then per group: totals and the top failure
// pairs (unanswered calls: calls - answered) as a JSON array.
constexpr const char* kStatsSql = R"SQL(
WITH src AS (
    SELECT {rollup_slot} AS slot, {grp} AS grp, end_reason, sip_code, calls, answered,
           answered_hold_ms AS hold_ms, effective
    FROM cdr_rollup
    WHERE {rollup}
    UNION ALL
    SELECT {raw_slot}, {grp}, end_reason, sip_code, 1, (answer_at IS NOT NULL)::integer,
           CASE WHEN answer_at IS NOT NULL THEN hold_ms ELSE 0 END,
           cdr_is_effective(answer_at IS NOT NULL, end_reason, sip_code)::integer
    FROM cdr
    WHERE {raw}
), fine AS (
    SELECT slot, grp, end_reason, sip_code, sum(calls) AS calls, sum(answered) AS answered,
           sum(hold_ms) AS hold_ms, sum(effective) AS effective
    FROM src
    GROUP BY 1, 2, 3, 4
), ranked AS (
    SELECT fine.*, calls - answered AS failed,
           row_number() OVER (PARTITION BY slot, grp
                              ORDER BY calls - answered DESC, end_reason, sip_code) AS rank
    FROM fine
)
SELECT (extract(epoch FROM slot) * 1000)::bigint, grp, sum(calls)::bigint,
       sum(answered)::bigint, sum(hold_ms)::bigint, sum(effective)::bigint,
       coalesce(json_agg(json_build_array(end_reason, sip_code, failed) ORDER BY rank)
                    FILTER (WHERE failed > 0 AND rank <= {top}), '[]')::text
FROM ranked
GROUP BY slot, grp
)SQL";

// PDD percentiles per group from the histogram (group, bucket) -> calls of the calls that rang or
// were answered (whole hours: cdr_rollup_pdd and the histograms not yet folded into it,
// cdr_rollup_pdd_pending (schema/0006), of the --by dimension; {pdd_grp} and {dimension}
// filled in by fillIn()): the smallest bucket whose cumulative count reaches the share holds the
// percentile_disc; reported as that bucket's highest value (cdr_pdd_bucket_high: exact below 128
// ms, at most 1/64 above the exact percentile_disc otherwise).
constexpr const char* kPddSql = R"SQL(
WITH histogram AS (
    SELECT slot, grp, bucket, sum(n) AS n
    FROM (SELECT {rollup_slot} AS slot, {pdd_grp} AS grp, h.bucket, h.n
          FROM (SELECT hour, dimension, grp, pdd_buckets, pdd_counts FROM cdr_rollup_pdd
                UNION ALL
                SELECT hour, dimension, grp, pdd_buckets, pdd_counts
                FROM cdr_rollup_pdd_pending) r,
               unnest(pdd_buckets, pdd_counts) AS h(bucket, n)
          WHERE dimension = '{dimension}' AND {rollup}
          UNION ALL
          SELECT {raw_slot}, {grp}, cdr_pdd_bucket(pdd_ms), 1
          FROM cdr
          WHERE (ring_at IS NOT NULL OR answer_at IS NOT NULL) AND ({raw})) s
    GROUP BY 1, 2, 3
), cumulative AS (
    SELECT slot, grp, bucket,
           sum(n) OVER (PARTITION BY slot, grp ORDER BY bucket) AS below,
           sum(n) OVER (PARTITION BY slot, grp) AS total
    FROM histogram
)
SELECT (extract(epoch FROM slot) * 1000)::bigint, grp,
       cdr_pdd_bucket_high(min(bucket) FILTER (WHERE below * 100 >= total * 50)),
       cdr_pdd_bucket_high(min(bucket) FILTER (WHERE below * 100 >= total * 95))
FROM cumulative
GROUP BY slot, grp
)SQL";

// The cdr_rollup_pdd dimension of a --by, and its group as text (as groupExpression()).
std::pair<std::string, std::string> pddDimension(StatsGroup by)
{
    switch (by) {
    case StatsGroup::Gateway:
        return {"gateway", "CASE WHEN grp = '' THEN '-' ELSE grp END"};
    case StatsGroup::Code:
        return {"code", "grp"};
    case StatsGroup::Reason:
        return {"reason", "grp"};
    case StatsGroup::EndDirection:
        return {"end_direction", "grp"};
    }
    return {"end_direction", "grp"};
}

constexpr std::int64_t kHourMs = 3600 * 1000;

std::int64_t floorToHour(std::int64_t ms)
{
    const std::int64_t q = ms / kHourMs;
    return (ms % kHourMs < 0 ? q - 1 : q) * kHourMs;
}

// Where `cdr stats` reads [since, until): the whole hours from cdr_rollup, the rest (the
// partial hours at the ends, or all of a range within one hour) from `cdr`. Adds the
// parameters to `f` and returns the {rollup} and {raw} conditions.
std::pair<std::string, std::string> statsSources(const CdrStatsQuery& q, Filter& f)
{
    const auto time = [&](std::int64_t ms) {
        return f.param(formatIsoMillis(fromEpochMillis(ms))) + "::timestamptz";
    };
    const auto raw = [&](std::int64_t lo, std::optional<std::int64_t> hi) {
        return "(setup_at >= " + time(lo) + (hi ? " AND setup_at < " + time(*hi) : "") + ")";
    };
    const std::int64_t since = epochMillis(q.since);
    const std::int64_t firstHour = floorToHour(since) + (floorToHour(since) < since ? kHourMs : 0);
    if (!q.until) {
        std::string rawPart = firstHour > since ? raw(since, firstHour) : "false";
        return {"hour >= " + time(firstHour), rawPart};
    }
    const std::int64_t until = epochMillis(*q.until);
    const std::int64_t lastHour = floorToHour(until);
    if (firstHour >= lastHour) {
        return {"false", until > since ? raw(since, until) : "false"};
    }
    std::vector<std::string> rawParts;
    if (firstHour > since) {
        rawParts.push_back(raw(since, firstHour));
    }
    if (until > lastHour) {
        rawParts.push_back(raw(lastHour, until));
    }
    std::string rawPart = rawParts.empty() ? "false" : rawParts[0];
    if (rawParts.size() == 2) {
        rawPart += " OR " + rawParts[1];
    }
    return {"hour >= " + time(firstHour) + " AND hour < " + time(lastHour), rawPart};
}

using Substitutions = std::vector<std::pair<std::string, std::string>>;

// `sql` with each {name} of `values` replaced (trusted text only: the values are ours).
std::string fillIn(std::string sql, const Substitutions& values)
{
    for (const auto& [name, value] : values) {
        for (auto at = sql.find(name); at != std::string::npos; at = sql.find(name, at)) {
            sql.replace(at, name.size(), value);
            at += value.size();
        }
    }
    return sql;
}

std::vector<FailureCount> toFailures(const std::string& text)
{
    std::vector<FailureCount> out;
    for (const auto& pair : nlohmann::json::parse(text)) {
        out.push_back({pair.at(0).get<std::string>(), pair.at(1).get<int>(),
                       pair.at(2).get<std::int64_t>()});
    }
    return out;
}

}  // namespace

std::vector<CdrStatsRow> AdminStore::cdrStats(const CdrStatsQuery& query) const
{
    Filter filter;
    const auto [rollup, raw] = statsSources(query, filter);
    const auto [dimension, pddGroup] = pddDimension(query.by);
    const Substitutions values = {
        {"{grp}", groupExpression(query.by)},
        {"{pdd_grp}", pddGroup},
        {"{dimension}", dimension},
        {"{rollup}", rollup},
        {"{raw}", raw},
        {"{rollup_slot}", query.hourly ? "hour" : "NULL::timestamptz"},
        {"{raw_slot}",
         query.hourly ? "date_trunc('hour', setup_at, 'UTC')" : "NULL::timestamptz"},
        {"{top}", std::to_string(query.topFailures)}};
    // The group of a result row: (hour in ms or nullopt, group).
    using Key = std::pair<std::optional<std::int64_t>, std::string>;
    const auto keyOf = [](const pqxx::row& row) {
        return Key{row[0].is_null() ? std::nullopt : std::optional(row[0].as<std::int64_t>()),
                   row[1].as<std::string>()};
    };
    try {
        pqxx::connection conn(dsn_);
        // One snapshot for both statements, so the percentiles belong to the calls counted.
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
        // The partial hours at the ends may hold hundreds of thousands of rows, so the
        // planner's cost estimate may trigger JIT compilation, which costs more than it saves
        // on these aggregates; the histograms should not spill at the default work_mem.
        txn.exec0("SET LOCAL jit = off");
        txn.exec0("SET LOCAL work_mem = '64MB'");
        std::vector<CdrStatsRow> out;
        const auto params = pqxx::prepare::make_dynamic_params(filter.params());
        for (const auto& row : txn.exec_params(fillIn(kStatsSql, values), params)) {
            CdrStatsRow r;
            if (const auto hour = keyOf(row).first) {
                r.hour = fromEpochMillis(*hour);
            }
            r.group = row[1].as<std::string>();
            r.calls = row[2].as<std::int64_t>();
            r.answered = row[3].as<std::int64_t>();
            r.answeredHoldMs = row[4].as<std::int64_t>();
            r.effective = row[5].as<std::int64_t>();
            r.failures = toFailures(row[6].as<std::string>());
            out.push_back(std::move(r));
        }
        std::sort(out.begin(), out.end(), [](const CdrStatsRow& a, const CdrStatsRow& b) {
            if (a.hour != b.hour) {
                return a.hour < b.hour;
            }
            return a.calls != b.calls ? a.calls > b.calls : a.group < b.group;
        });
        std::map<Key, std::size_t> byKey;  // (hour, group) -> index in out
        for (std::size_t i = 0; i < out.size(); ++i) {
            const auto hour = out[i].hour ? std::optional(epochMillis(*out[i].hour))
                                          : std::nullopt;
            byKey[{hour, out[i].group}] = i;
        }
        for (const auto& row : txn.exec_params(fillIn(kPddSql, values), params)) {
            const auto it = byKey.find(keyOf(row));
            if (it != byKey.end()) {
                out[it->second].pddP50Ms = row[2].as<std::int64_t>();
                out[it->second].pddP95Ms = row[3].as<std::int64_t>();
            }
        }
        txn.commit();
        return out;
    } catch (...) {
        pg::rethrowDbError("computing CDR statistics");
    }
}

std::vector<CdrRow> AdminStore::queryCdrs(const CdrQuery& query) const
{
    Filter filter = buildFilter(query);
    const std::string limit = filter.param(std::to_string(query.limit));
    const std::string sql = std::string(kCdrSelect) + filter.sql() +
                            " ORDER BY setup_at DESC, id DESC LIMIT " + limit + "::bigint";
    try {
        pqxx::connection conn(dsn_);
        pqxx::read_transaction txn(conn);
        std::vector<CdrRow> out;
        for (const auto& row :
             txn.exec_params(sql, pqxx::prepare::make_dynamic_params(filter.params()))) {
            out.push_back(toCdrRow(row));
        }
        return out;
    } catch (...) {
        pg::rethrowDbError("querying CDRs");
    }
}

std::vector<CdrDetail> AdminStore::findCdrs(const std::string& callId) const
{
    try {
        pqxx::connection conn(dsn_);
        // One snapshot for both statements, so the chain belongs to the calls read.
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
        std::vector<CdrDetail> out;
        std::map<std::int64_t, std::size_t> byId;  // cdr id -> index in out
        for (const auto& row : txn.exec_params(std::string(kCdrSelect) +
                                                   " AND call_id = $1 ORDER BY setup_at, node, id",
                                               callId)) {
            out.push_back({toCdrRow(row), {}});
            byId[out.back().cdr.id] = out.size() - 1;
        }
        for (const auto& row : txn.exec_params(kAttemptSelect, callId)) {
            const auto it = byId.find(row[0].as<std::int64_t>());
            if (it != byId.end()) {
                out[it->second].attempts.push_back(toAttempt(row));
            }
        }
        txn.commit();
        return out;
    } catch (...) {
        pg::rethrowDbError("reading CDR " + callId);
    }
}

}  // namespace ss::cdr
