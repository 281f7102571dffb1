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

// NER numerator (admin_store.h CdrStatsRow): answered, or ended by the users' side.
constexpr const char* kEffective =
    "answer_at IS NOT NULL OR end_reason IN ('caller_cancel', 'timeout_ringing') OR "
    "(end_reason = 'callee_rejected' AND sip_code IN (480, 486, 487, 600, 603))";

// Counts per group and (for unanswered calls) end_reason + sip_code in one parallel scan of
// the range, then per group: totals and the top failure pairs as a JSON array. {grp}, {where},
// {effective} and {top} are filled in by fillIn().
constexpr const char* kStatsSql = R"SQL(
WITH fine AS (
    SELECT {grp} AS grp,
           CASE WHEN answer_at IS NULL THEN end_reason END AS fail_reason,
           CASE WHEN answer_at IS NULL THEN sip_code END AS fail_code,
           count(*) AS calls,
           count(answer_at) AS answered,
           coalesce(sum(hold_ms) FILTER (WHERE answer_at IS NOT NULL), 0) AS hold_ms,
           count(*) FILTER (WHERE {effective}) AS effective
    FROM cdr
    WHERE true {where}
    GROUP BY 1, 2, 3
), ranked AS (
    SELECT fine.*,
           row_number() OVER (PARTITION BY grp
                              ORDER BY fail_reason IS NULL, calls DESC, fail_reason,
                                       fail_code) AS rank
    FROM fine
)
SELECT grp, sum(calls)::bigint, sum(answered)::bigint, sum(hold_ms)::bigint,
       sum(effective)::bigint,
       coalesce(json_agg(json_build_array(fail_reason, fail_code, calls) ORDER BY rank)
                    FILTER (WHERE fail_reason IS NOT NULL AND rank <= {top}), '[]')::text
FROM ranked
GROUP BY grp
)SQL";

// percentile_disc of pdd_ms per group from a histogram (group, pdd_ms) -> count, which a
// parallel hash aggregate builds; the smallest pdd_ms whose cumulative count reaches the
// share is exactly percentile_disc, without sorting every call.
constexpr const char* kPddSql = R"SQL(
WITH histogram AS (
    SELECT {grp} AS grp, pdd_ms, count(*) AS n
    FROM cdr
    WHERE (ring_at IS NOT NULL OR answer_at IS NOT NULL) {where}
    GROUP BY 1, 2
), cumulative AS (
    SELECT grp, pdd_ms,
           sum(n) OVER (PARTITION BY grp ORDER BY pdd_ms) AS below,
           sum(n) OVER (PARTITION BY grp) AS total
    FROM histogram
)
SELECT grp, min(pdd_ms) FILTER (WHERE below * 100 >= total * 50),
       min(pdd_ms) FILTER (WHERE below * 100 >= total * 95)
FROM cumulative
GROUP BY grp
)SQL";

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
    CdrQuery range;
    range.since = query.since;
    range.until = query.until;
    const Filter filter = buildFilter(range);
    const Substitutions values = {
        {"{grp}", groupExpression(query.by)},
        {"{where}", filter.sql()},
        {"{effective}", kEffective},
        {"{top}", std::to_string(query.topFailures)}};
    try {
        pqxx::connection conn(dsn_);
        // One snapshot for both statements, so the percentiles belong to the calls counted.
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
        // A day holds millions of rows, so the planner's cost estimate triggers JIT
        // compilation, which costs seconds here and saves little on these aggregates; the
        // pdd histogram (groups x distinct pdd_ms) spills to disk at the default work_mem.
        txn.exec0("SET LOCAL jit = off");
        txn.exec0("SET LOCAL work_mem = '64MB'");
        std::vector<CdrStatsRow> out;
        std::map<std::string, std::size_t> byGroup;  // group -> index in out
        const auto params = pqxx::prepare::make_dynamic_params(filter.params());
        for (const auto& row : txn.exec_params(fillIn(kStatsSql, values), params)) {
            CdrStatsRow r;
            r.group = row[0].as<std::string>();
            r.calls = row[1].as<std::int64_t>();
            r.answered = row[2].as<std::int64_t>();
            r.answeredHoldMs = row[3].as<std::int64_t>();
            r.effective = row[4].as<std::int64_t>();
            r.failures = toFailures(row[5].as<std::string>());
            out.push_back(std::move(r));
        }
        std::sort(out.begin(), out.end(), [](const CdrStatsRow& a, const CdrStatsRow& b) {
            return a.calls != b.calls ? a.calls > b.calls : a.group < b.group;
        });
        for (std::size_t i = 0; i < out.size(); ++i) {
            byGroup[out[i].group] = i;
        }
        for (const auto& row : txn.exec_params(fillIn(kPddSql, values), params)) {
            const auto it = byGroup.find(row[0].as<std::string>());
            if (it != byGroup.end()) {
                out[it->second].pddP50Ms = row[1].as<std::int64_t>();
                out[it->second].pddP95Ms = row[2].as<std::int64_t>();
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
