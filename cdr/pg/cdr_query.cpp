// SPDX-License-Identifier: Apache-2.0
// CDR queries (`swctl cdr query`, `swctl cdr show`).

#include "cdr/admin_store.h"
#include "cdr/pg/pg_util.h"
#include "cdr/time_format.h"

#include <pqxx/pqxx>

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

// cdr_attempt rows of the calls with one call id, as CdrAttempt after the cdr id.
constexpr const char* kAttemptSelect =
    "SELECT a.cdr_id, a.seq, a.gateway, a.addr, a.transport, "
    "(extract(epoch FROM a.started_at) * 1000)::bigint, "
    "(extract(epoch FROM a.ended_at) * 1000)::bigint, "
    "a.sip_code, a.outcome "
    "FROM cdr_attempt a JOIN cdr c ON c.id = a.cdr_id "
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

}  // namespace

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
