// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL CdrSink: one transaction and one statement per batch.

#include "cdr/cdr_log.h"
#include "cdr/pg/pg_util.h"
#include "cdr/store.h"
#include "cdr/time_format.h"

#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include <set>
#include <utility>

namespace ss::cdr {

namespace {

using nlohmann::json;

// The batch travels as one jsonb array. The data-modifying CTE inserts the calls, skipping
// calls already stored (the unique key is (node, call_id, setup_at): `cdr` is partitioned by
// setup_at, schema/0003, and a replay carries the same setup_at), then the attempts of the
// calls actually inserted, with their call's setup_at (the attempts' partition key), and
// returns how many calls were new. Every column is named on both sides.
constexpr const char* kInsertSql = R"SQL(
WITH input AS (
    SELECT *
    FROM jsonb_to_recordset($1::jsonb) AS r(
        node text, call_id text, caller text, callee text, callee_out text,
        origin_gateway text, origin_addr text, term_gateway text, term_addr text,
        attempts integer, setup_at timestamptz, ring_at timestamptz, answer_at timestamptz,
        end_at timestamptz, pdd_ms bigint, hold_ms bigint, end_direction text,
        end_reason text, disposition text, sip_code integer, sip_reason text,
        q850_cause integer, attempt_list jsonb)
), inserted AS (
    INSERT INTO cdr (node, call_id, caller, callee, callee_out, origin_gateway, origin_addr,
                     term_gateway, term_addr, attempts, setup_at, ring_at, answer_at, end_at,
                     pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code,
                     sip_reason, q850_cause)
    SELECT node, call_id, caller, callee, callee_out, origin_gateway, origin_addr,
           term_gateway, term_addr, attempts, setup_at, ring_at, answer_at, end_at,
           pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code,
           sip_reason, q850_cause
    FROM input
    ON CONFLICT (node, call_id, setup_at) DO NOTHING
    RETURNING id, node, call_id, setup_at
), inserted_attempts AS (
    INSERT INTO cdr_attempt (cdr_id, setup_at, seq, gateway, addr, transport, started_at,
                             ended_at, sip_code, outcome)
    SELECT i.id, i.setup_at, a.seq, a.gateway, a.addr, a.transport, a.started_at, a.ended_at,
           a.sip_code, a.outcome
    FROM inserted i
    JOIN input r ON r.node = i.node AND r.call_id = i.call_id
    CROSS JOIN LATERAL jsonb_to_recordset(r.attempt_list) AS a(
        seq integer, gateway text, addr text, transport text, started_at timestamptz,
        ended_at timestamptz, sip_code integer, outcome text)
    RETURNING 1
)
SELECT count(*) FROM inserted
)SQL";

constexpr const char* kInsertStatement = "ss_cdr_insert";

// PostgreSQL text cannot hold NUL; jsonb refuses \u0000. (Invalid UTF-8 is replaced when the
// JSON is dumped.)
std::string text(const std::string& s)
{
    std::string out = s;
    std::erase(out, '\0');
    return out;
}

json optionalTime(const std::optional<common::SysTime>& t)
{
    return t ? json(formatIsoMillis(*t)) : json(nullptr);
}

json toJson(const CdrRecord& r)
{
    json attempts = json::array();
    for (const auto& a : r.attempts) {
        attempts.push_back({{"seq", a.seq},
                            {"gateway", text(a.gateway)},
                            {"addr", text(a.addr)},
                            {"transport", text(a.transport)},
                            {"started_at", formatIsoMillis(a.startedAt)},
                            {"ended_at", formatIsoMillis(a.endedAt)},
                            // No final response from the gateway (timeout, transport
                            // error, skipped): NULL, not a code nobody sent.
                            {"sip_code", a.sipCode == 0 ? json(nullptr) : json(a.sipCode)},
                            {"outcome", text(a.outcome)}});
    }
    return {{"node", text(r.node)},
            {"call_id", text(r.callId)},
            {"caller", text(r.caller)},
            {"callee", text(r.callee)},
            {"callee_out", text(r.calleeOut)},
            {"origin_gateway", text(r.originGateway)},
            {"origin_addr", text(r.originAddr)},
            {"term_gateway", text(r.termGateway)},
            {"term_addr", text(r.termAddr)},
            {"attempts", r.attempts.size()},
            {"setup_at", formatIsoMillis(r.setupAt)},
            {"ring_at", optionalTime(r.ringAt)},
            {"answer_at", optionalTime(r.answerAt)},
            {"end_at", formatIsoMillis(r.endAt)},
            {"pdd_ms", r.pddMs()},
            {"hold_ms", r.holdMs()},
            {"end_direction", toString(r.endDirection)},
            {"end_reason", text(r.endReason)},
            {"disposition", text(r.disposition)},
            {"sip_code", r.sipCode},
            {"sip_reason", text(r.sipReason)},
            {"q850_cause", r.q850Cause},
            {"attempt_list", std::move(attempts)}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

class PgCdrSink final : public CdrSink {
public:
    PgCdrSink(std::string dsn, std::chrono::milliseconds statementTimeout)
        : dsn_(std::move(dsn)), statementTimeout_(statementTimeout)
    {
    }

    std::vector<RejectedCdr> write(const std::vector<CdrRecord>& batch) override
    {
        try {
            connect();
            return writeAll(batch);
        } catch (...) {
            // Whatever failed (connection lost, commit in doubt, server restarted), start the
            // next batch on a fresh connection.
            conn_.reset();
            pg::rethrowDbError("writing CDRs");
        }
    }

private:
    void connect()
    {
        if (!conn_) {
            conn_ = std::make_unique<pqxx::connection>(dsn_);
            conn_->set_variable("statement_timeout",
                                std::to_string(statementTimeout_.count()));
            conn_->prepare(kInsertStatement, kInsertSql);
        }
    }

    std::vector<RejectedCdr> writeAll(const std::vector<CdrRecord>& batch)
    {
        // A call id twice in one batch would insert its attempts twice; keep the first.
        json rows = json::array();
        std::vector<const CdrRecord*> sources;  // the record of each row
        std::set<std::pair<std::string, std::string>> seen;
        for (const auto& r : batch) {
            if (seen.emplace(r.node, r.callId).second) {
                rows.push_back(toJson(r));
                sources.push_back(&r);
            }
        }
        try {
            pqxx::work txn(*conn_);
            const auto inserted = txn.exec_prepared1(kInsertStatement, dump(rows))[0].as<long>();
            txn.commit();
            cdrLog()->debug("wrote {} CDRs ({} new)", rows.size(), inserted);
            return {};
        } catch (const pqxx::data_exception& e) {
            return writeOneByOne(rows, sources, e.what());
        } catch (const pqxx::integrity_constraint_violation& e) {
            return writeOneByOne(rows, sources, e.what());
        }
    }

    // A CDR the database refuses (a bug upstream) must not block every CDR behind it forever:
    // retry row by row and hand the refused ones back, so they can be repaired and re-fed.
    std::vector<RejectedCdr> writeOneByOne(const json& rows,
                                           const std::vector<const CdrRecord*>& sources,
                                           const std::string& why)
    {
        cdrLog()->warn("CDR batch refused ({}); retrying row by row", pg::oneLine(why));
        std::vector<RejectedCdr> rejected;
        // Plain savepoints: pqxx 6.4's subtransaction only issues its SAVEPOINT on exec(), not
        // on exec_prepared(), so it could not roll one row back.
        pqxx::work txn(*conn_);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            txn.exec0("SAVEPOINT cdr_row");
            try {
                txn.exec_prepared1(kInsertStatement, dump(json::array({rows[i]})));
                txn.exec0("RELEASE SAVEPOINT cdr_row");
            } catch (const pqxx::data_exception& e) {
                txn.exec0("ROLLBACK TO SAVEPOINT cdr_row");
                rejected.push_back({*sources[i], pg::oneLine(e.what())});
            } catch (const pqxx::integrity_constraint_violation& e) {
                txn.exec0("ROLLBACK TO SAVEPOINT cdr_row");
                rejected.push_back({*sources[i], pg::oneLine(e.what())});
            }
        }
        txn.commit();
        return rejected;
    }

    std::string dsn_;
    std::chrono::milliseconds statementTimeout_;
    std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace

std::unique_ptr<CdrSink> makePgCdrSink(const std::string& dsn,
                                       std::chrono::milliseconds statementTimeout)
{
    return std::make_unique<PgCdrSink>(dsn, statementTimeout);
}

}  // namespace ss::cdr
