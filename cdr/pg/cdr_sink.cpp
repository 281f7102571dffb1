// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL CdrSink: one transaction per batch — the batch COPYed into two temporary
// staging tables, then one statement inserting the new calls, their attempts and their share
// of the hourly rollup and PDD histograms (schema/0004).

#include "cdr/cdr_log.h"
#include "cdr/pg/pg_util.h"
#include "cdr/store.h"
#include "cdr/time_format.h"

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <charconv>
#include <set>
#include <string_view>
#include <utility>

namespace ss::cdr {

namespace {

// The staging tables, one per connection (temporary), emptied at every commit. Times travel
// as epoch milliseconds (CdrRecord times truncated, as formatIsoMillis does), which costs
// neither side a text conversion; `n` numbers the calls of the batch.
constexpr const char* kCreateStaging = R"SQL(
CREATE TEMPORARY TABLE ss_cdr_in (
    n integer, node text, call_id text, caller text, callee text, callee_out text,
    origin_gateway text, origin_addr text, term_gateway text, term_addr text,
    attempts integer, setup_ms bigint, ring_ms bigint, answer_ms bigint, end_ms bigint,
    pdd_ms bigint, hold_ms bigint, end_direction text, end_reason text, disposition text,
    sip_code integer, sip_reason text, q850_cause integer
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE ss_attempt_in (
    n integer, seq integer, gateway text, addr text, transport text, started_ms bigint,
    ended_ms bigint, sip_code integer, outcome text
) ON COMMIT DELETE ROWS
)SQL";

const std::vector<std::string> kCdrInColumns = {
    "n", "node", "call_id", "caller", "callee", "callee_out", "origin_gateway", "origin_addr",
    "term_gateway", "term_addr", "attempts", "setup_ms", "ring_ms", "answer_ms", "end_ms",
    "pdd_ms", "hold_ms", "end_direction", "end_reason", "disposition", "sip_code",
    "sip_reason", "q850_cause"};
const std::vector<std::string> kAttemptInColumns = {
    "n", "seq", "gateway", "addr", "transport", "started_ms", "ended_ms", "sip_code", "outcome"};

// Inserts the staged calls — {on_conflict} empty: all of them, failing with a unique violation
// if one is stored already; "ON CONFLICT ... DO NOTHING": skipping calls already stored (the
// unique key is (node, call_id, setup_at): `cdr` is partitioned by setup_at, schema/0003, and a
// replay carries the same setup_at) — then the attempts of the calls actually inserted, with
// their call's setup_at (the attempts' partition key), then adds the calls actually inserted to
// cdr_rollup and their PDDs to cdr_rollup_pdd_pending (folded into cdr_rollup_pdd by foldPdd(),
// schema/0006) — so a replay neither stores nor counts a call twice. Rollup rows are upserted in
// key order, so two writers' transactions cannot deadlock on them. Returns how many calls were
// new. {where} limits it to one staged call (the row-by-row retry). Every column is named on both
// sides. The plain insert is the common case: a speculative (ON CONFLICT) insertion costs ~25 %
// more per call (tests/load/README.md), and conflicts come only with replays.
constexpr const char* kInsertSql = R"SQL(
WITH inserted AS (
    INSERT INTO cdr (node, call_id, caller, callee, callee_out, origin_gateway, origin_addr,
                     term_gateway, term_addr, attempts, setup_at, ring_at, answer_at, end_at,
                     pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code,
                     sip_reason, q850_cause)
    SELECT node, call_id, caller, callee, callee_out, origin_gateway, origin_addr,
           term_gateway, term_addr, attempts,
           'epoch'::timestamptz + setup_ms * interval '1 ms',
           'epoch'::timestamptz + ring_ms * interval '1 ms',
           'epoch'::timestamptz + answer_ms * interval '1 ms',
           'epoch'::timestamptz + end_ms * interval '1 ms',
           pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code,
           sip_reason, q850_cause
    FROM ss_cdr_in
    {where}
    {on_conflict}
    RETURNING id, node, call_id, setup_at, term_gateway, sip_code, end_reason, end_direction,
              answer_at IS NOT NULL AS answered,
              ring_at IS NOT NULL OR answer_at IS NOT NULL AS rang, hold_ms,
              date_trunc('hour', setup_at, 'UTC') AS hour, cdr_pdd_bucket(pdd_ms) AS pdd_bucket
), inserted_attempts AS (
    INSERT INTO cdr_attempt (cdr_id, setup_at, seq, gateway, addr, transport, started_at,
                             ended_at, sip_code, outcome)
    SELECT i.id, i.setup_at, a.seq, a.gateway, a.addr, a.transport,
           'epoch'::timestamptz + a.started_ms * interval '1 ms',
           'epoch'::timestamptz + a.ended_ms * interval '1 ms',
           a.sip_code, a.outcome
    FROM inserted i
    JOIN ss_cdr_in s ON s.node = i.node AND s.call_id = i.call_id
    JOIN ss_attempt_in a ON a.n = s.n
), inserted_rollup AS (
    INSERT INTO cdr_rollup AS r (hour, term_gateway, sip_code, end_reason, end_direction,
                                 calls, answered, answered_hold_ms, effective)
    SELECT hour, term_gateway, sip_code, end_reason, end_direction,
           count(*), count(*) FILTER (WHERE answered),
           coalesce(sum(hold_ms) FILTER (WHERE answered), 0),
           count(*) FILTER (WHERE cdr_is_effective(answered, end_reason, sip_code))
    FROM inserted
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (hour, term_gateway, sip_code, end_reason, end_direction) DO UPDATE SET
        calls = r.calls + excluded.calls,
        answered = r.answered + excluded.answered,
        answered_hold_ms = r.answered_hold_ms + excluded.answered_hold_ms,
        effective = r.effective + excluded.effective
), pdd_per_bucket AS (
    -- One hashed aggregate per `--by` dimension: a quarter of the rows to group, and no sort
    -- of every call times four dimensions (measured: ~40 % of the PDD rollup's cost).
    SELECT hour, 'gateway' AS dimension, term_gateway AS grp, pdd_bucket AS bucket,
           count(*) AS calls
    FROM inserted WHERE rang GROUP BY hour, term_gateway, pdd_bucket
    UNION ALL
    SELECT hour, 'code', sip_code::text, pdd_bucket, count(*)
    FROM inserted WHERE rang GROUP BY hour, sip_code, pdd_bucket
    UNION ALL
    SELECT hour, 'reason', end_reason, pdd_bucket, count(*)
    FROM inserted WHERE rang GROUP BY hour, end_reason, pdd_bucket
    UNION ALL
    SELECT hour, 'end_direction', end_direction, pdd_bucket, count(*)
    FROM inserted WHERE rang GROUP BY hour, end_direction, pdd_bucket
), inserted_pdd AS (
    INSERT INTO cdr_rollup_pdd_pending (hour, dimension, grp, pdd_buckets, pdd_counts)
    SELECT hour, dimension, grp, array_agg(bucket ORDER BY bucket),
           array_agg(calls ORDER BY bucket)
    FROM pdd_per_bucket
    GROUP BY 1, 2, 3
)
SELECT count(*) FROM inserted
)SQL";

constexpr const char* kInsertNewStatement = "ss_cdr_insert_new";
constexpr const char* kInsertStatement = "ss_cdr_insert";
constexpr const char* kInsertOneStatement = "ss_cdr_insert_one";
constexpr const char* kSkipStored = "ON CONFLICT (call_id, node, setup_at) DO NOTHING";

// Every this many batches a sink folds the pending PDD histograms into cdr_rollup_pdd
// (schema/0006): a few dozen batches' worth is folded in tens of milliseconds, and each entry of
// an hour's histogram is then rewritten once per fold instead of once per batch.
constexpr int kFoldPddEvery = 32;

std::string insertSql(const std::string& where, const std::string& onConflict)
{
    std::string sql = kInsertSql;
    for (const auto& [name, value] : {std::pair<std::string, const std::string&>{"{where}", where},
                                      {"{on_conflict}", onConflict}}) {
        sql.replace(sql.find(name), name.size(), value);
    }
    return sql;
}

// --- COPY text format (PostgreSQL docs, "COPY", "Text Format") -------------------------------

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF) at the start of `s`, or 0.
std::size_t utf8Length(std::string_view s)
{
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
    const unsigned char c = byte(0);
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2) || (c == 0xE0 && byte(1) < 0xA0) ||
            (c == 0xED && byte(1) > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3) || (c == 0xF0 && byte(1) < 0x90) ||
            (c == 0xF4 && byte(1) > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

// A text field: PostgreSQL text cannot hold NUL (dropped); invalid UTF-8 becomes U+FFFD, one
// per byte that starts no valid sequence; backslash and the separators are escaped.
void appendText(std::string& out, std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x80) {
            switch (c) {
            case '\0':
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += c;
            }
            ++i;
            continue;
        }
        const std::size_t len = utf8Length(s.substr(i));
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.data() + i, len);
            i += len;
        }
    }
}

void appendInt(std::string& out, std::int64_t value)
{
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    out.append(buf, end);
}

void appendTime(std::string& out, const std::optional<common::SysTime>& t)
{
    if (t) {
        appendInt(out, epochMillis(*t));
    } else {
        out += "\\N";
    }
}

// Appends the ss_cdr_in line of call `n` (no trailing newline).
void appendCdrLine(std::string& out, int n, const CdrRecord& r)
{
    const auto text = [&](std::string_view s) {
        appendText(out, s);
        out += '\t';
    };
    const auto integer = [&](std::int64_t v) {
        appendInt(out, v);
        out += '\t';
    };
    const auto time = [&](const std::optional<common::SysTime>& t) {
        appendTime(out, t);
        out += '\t';
    };
    integer(n);
    text(r.node);
    text(r.callId);
    text(r.caller);
    text(r.callee);
    text(r.calleeOut);
    text(r.originGateway);
    text(r.originAddr);
    text(r.termGateway);
    text(r.termAddr);
    integer(static_cast<std::int64_t>(r.attempts.size()));
    time(r.setupAt);
    time(r.ringAt);
    time(r.answerAt);
    time(r.endAt);
    integer(r.pddMs());
    integer(r.holdMs());
    text(toString(r.endDirection));
    text(r.endReason);
    text(r.disposition);
    integer(r.sipCode);
    text(r.sipReason);
    appendInt(out, r.q850Cause);
}

// Appends the ss_attempt_in lines of call `n`, each preceded by a newline unless `out` is
// empty.
void appendAttemptLines(std::string& out, int n, const CdrRecord& r)
{
    for (const auto& a : r.attempts) {
        if (!out.empty()) {
            out += '\n';
        }
        appendInt(out, n);
        out += '\t';
        appendInt(out, a.seq);
        out += '\t';
        appendText(out, a.gateway);
        out += '\t';
        appendText(out, a.addr);
        out += '\t';
        appendText(out, a.transport);
        out += '\t';
        appendTime(out, a.startedAt);
        out += '\t';
        appendTime(out, a.endedAt);
        out += '\t';
        // No final response from the gateway (timeout, transport error, skipped): NULL, not
        // a code nobody sent.
        if (a.sipCode == 0) {
            out += "\\N";
        } else {
            appendInt(out, a.sipCode);
        }
        out += '\t';
        appendText(out, a.outcome);
    }
}

// A batch as COPY text: the calls (deduplicated) and their attempts.
struct StagedBatch {
    std::string cdrLines;      // ss_cdr_in, one line per call, no trailing newline
    std::string attemptLines;  // ss_attempt_in
    std::vector<const CdrRecord*> sources;  // the record of call n (0-based)
};

StagedBatch stage(const std::vector<CdrRecord>& batch)
{
    StagedBatch out;
    out.cdrLines.reserve(batch.size() * 320);
    out.attemptLines.reserve(batch.size() * 200);
    // A call id twice in one batch would insert its attempts twice; keep the first.
    std::set<std::pair<std::string_view, std::string_view>> seen;
    for (const auto& r : batch) {
        if (!seen.emplace(r.node, r.callId).second) {
            continue;
        }
        const int n = static_cast<int>(out.sources.size());
        if (n > 0) {
            out.cdrLines += '\n';
        }
        appendCdrLine(out.cdrLines, n, r);
        appendAttemptLines(out.attemptLines, n, r);
        out.sources.push_back(&r);
    }
    return out;
}

// COPY `lines` into `table`: one PQputCopyData for the whole text. tablewriter is pqxx 6.4's
// raw-line COPY writer (stream_to keeps write_raw_line private and escapes field by field,
// which costs more than building the text above); its "multibyte encodings" warning concerns
// client encodings such as SJIS, not the UTF8 set in connect().
void copyLines(pqxx::work& txn, const char* table, const std::vector<std::string>& columns,
               const std::string& lines)
{
    if (lines.empty()) {
        return;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    pqxx::tablewriter writer(txn, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
    writer.write_raw_line(lines);
    writer.complete();
}

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
            conn_->set_client_encoding("UTF8");
            conn_->set_variable("statement_timeout",
                                std::to_string(statementTimeout_.count()));
            // The staging tables have no statistics (they are emptied at every commit), so
            // the planner could pick a nested loop over them, quadratic in the batch size;
            // this session runs only the statements below, where hash joins are right.
            conn_->set_variable("enable_nestloop", "off");
            conn_->set_variable("enable_mergejoin", "off");
            // A plan that still needs a nested loop then carries the planner's disable_cost,
            // which would trigger JIT compilation of the whole statement: seconds per batch,
            // for a plan that runs in milliseconds.
            conn_->set_variable("jit", "off");
            {
                pqxx::nontransaction ddl(*conn_);
                ddl.exec0(kCreateStaging);
            }
            conn_->prepare(kInsertNewStatement, insertSql("", ""));
            conn_->prepare(kInsertStatement, insertSql("", kSkipStored));
            conn_->prepare(kInsertOneStatement, insertSql("WHERE n = $1", kSkipStored));
        }
    }

    std::vector<RejectedCdr> writeAll(const std::vector<CdrRecord>& batch)
    {
        const StagedBatch staged = stage(batch);
        try {
            try {
                insertBatch(staged, kInsertNewStatement);
            } catch (const pqxx::unique_violation&) {
                // Some of these calls are stored already (a replay): again, skipping them.
                insertBatch(staged, kInsertStatement);
            }
            if (++batchesSinceFold_ >= kFoldPddEvery) {
                foldPdd();
            }
            return {};
        } catch (const pqxx::data_exception& e) {
            return writeOneByOne(staged, e.what());
        } catch (const pqxx::integrity_constraint_violation& e) {
            return writeOneByOne(staged, e.what());
        }
    }

    // The batch is committed: a failure here is logged, never reported as the batch's.
    void foldPdd()
    {
        batchesSinceFold_ = 0;
        try {
            pqxx::work txn(*conn_);
            txn.exec1("SELECT cdr_rollup_pdd_fold()");
            txn.commit();
        } catch (const std::exception& e) {
            cdrLog()->warn("folding the PDD histograms failed ({}); will retry",
                           pg::oneLine(e.what()));
            conn_.reset();
        }
    }

    void insertBatch(const StagedBatch& staged, const char* statement)
    {
        pqxx::work txn(*conn_);
        copyStaged(txn, staged);
        const auto inserted = txn.exec_prepared1(statement)[0].as<long>();
        txn.commit();
        cdrLog()->debug("wrote {} CDRs ({} new)", staged.sources.size(), inserted);
    }

    static void copyStaged(pqxx::work& txn, const StagedBatch& staged)
    {
        copyLines(txn, "ss_cdr_in", kCdrInColumns, staged.cdrLines);
        copyLines(txn, "ss_attempt_in", kAttemptInColumns, staged.attemptLines);
    }

    // A CDR the database refuses (a bug upstream) must not block every CDR behind it forever:
    // retry row by row and hand the refused ones back, so they can be repaired and re-fed.
    std::vector<RejectedCdr> writeOneByOne(const StagedBatch& staged, const std::string& why)
    {
        cdrLog()->warn("CDR batch refused ({}); retrying row by row", pg::oneLine(why));
        std::vector<RejectedCdr> rejected;
        // Plain savepoints: pqxx 6.4's subtransaction only issues its SAVEPOINT on exec(), not
        // on exec_prepared(), so it could not roll one row back. The staged rows were copied
        // before the first savepoint, so rolling back to it keeps them.
        pqxx::work txn(*conn_);
        copyStaged(txn, staged);
        for (std::size_t i = 0; i < staged.sources.size(); ++i) {
            txn.exec0("SAVEPOINT cdr_row");
            try {
                txn.exec_prepared1(kInsertOneStatement, static_cast<int>(i));
                txn.exec0("RELEASE SAVEPOINT cdr_row");
            } catch (const pqxx::data_exception& e) {
                txn.exec0("ROLLBACK TO SAVEPOINT cdr_row");
                rejected.push_back({*staged.sources[i], pg::oneLine(e.what())});
            } catch (const pqxx::integrity_constraint_violation& e) {
                txn.exec0("ROLLBACK TO SAVEPOINT cdr_row");
                rejected.push_back({*staged.sources[i], pg::oneLine(e.what())});
            }
        }
        txn.commit();
        return rejected;
    }

    std::string dsn_;
    std::chrono::milliseconds statementTimeout_;
    std::unique_ptr<pqxx::connection> conn_;
    int batchesSinceFold_ = 0;
};

}  // namespace

std::unique_ptr<CdrSink> makePgCdrSink(const std::string& dsn,
                                       std::chrono::milliseconds statementTimeout)
{
    return std::make_unique<PgCdrSink>(dsn, statementTimeout);
}

}  // namespace ss::cdr
