// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL CdrSink: one transaction per batch — the calls, their attempts, and their
// share of the hourly rollup and PDD histograms (schema/0004, 0006).

#include "cdr/cdr_log.h"
#include "cdr/pg/pg_util.h"
#include "cdr/rollup.h"
#include "cdr/store.h"
#include "cdr/time_format.h"

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <array>
#include <charconv>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

namespace ss::cdr {

namespace {

// A batch is written in one transaction. Commonly every call in it is new: the calls and their
// attempts are COPYed straight into `cdr` and `cdr_attempt` (ids drawn from cdr_id_seq first, as
// an attempt refers to its call by id), and the batch's share of the hourly rollup, added up
// here (rollUp), goes to cdr_rollup and, for the PDD histograms, cdr_rollup_pdd_pending (folded
// into cdr_rollup_pdd by foldPdd(), schema/0006). COPY writes rows in multi-row blocks and needs
// no staging: 10-18 % fewer instructions per CDR than inserting them from staging tables with
// the rollup computed in SQL (tests/load/README.md). Such a transaction touches no temporary
// table: one that does makes PostgreSQL truncate every ON COMMIT DELETE ROWS table of the
// session at commit (heap, TOAST table and its index, files), which at the switch's small
// batches was a third of PostgreSQL's CPU.
//
// If a call is stored already (a replay), the unique key refuses the COPY, and the batch is
// redone through staging tables, skipping the calls already stored (ON CONFLICT DO NOTHING) and
// rolling up only those actually inserted, so a replay neither stores nor counts a call twice.

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

// The columns of a call's line, staged (first column n, times in epoch ms) or straight into
// `cdr` (first column id, times as ISO text); an attempt's line likewise, which straight into
// `cdr_attempt` also carries its call's setup_at (the partition key).
const std::vector<std::string> kCdrInColumns = {
    "n", "node", "call_id", "caller", "callee", "callee_out", "origin_gateway", "origin_addr",
    "term_gateway", "term_addr", "attempts", "setup_ms", "ring_ms", "answer_ms", "end_ms",
    "pdd_ms", "hold_ms", "end_direction", "end_reason", "disposition", "sip_code",
    "sip_reason", "q850_cause"};
const std::vector<std::string> kCdrColumns = {
    "id", "node", "call_id", "caller", "callee", "callee_out", "origin_gateway", "origin_addr",
    "term_gateway", "term_addr", "attempts", "setup_at", "ring_at", "answer_at", "end_at",
    "pdd_ms", "hold_ms", "end_direction", "end_reason", "disposition", "sip_code",
    "sip_reason", "q850_cause"};
const std::vector<std::string> kAttemptInColumns = {
    "n", "seq", "gateway", "addr", "transport", "started_ms", "ended_ms", "sip_code", "outcome"};
const std::vector<std::string> kAttemptColumns = {
    "cdr_id", "seq", "gateway", "addr", "transport", "started_at", "ended_at", "sip_code",
    "outcome", "setup_at"};
const std::vector<std::string> kPddPendingColumns = {
    "hour", "dimension", "grp", "pdd_buckets", "pdd_counts"};

// Inserts the staged calls not stored yet (the unique key is (node, call_id, setup_at): `cdr` is
// partitioned by setup_at, schema/0003, and a replay carries the same setup_at), then the
// attempts of the calls actually inserted, with their call's setup_at. Returns the n of each
// call inserted. {where} limits it to one staged call (the row-by-row retry). Every column is
// named on both sides.
constexpr const char* kInsertStagedSql = R"SQL(
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
    ON CONFLICT (call_id, node, setup_at) DO NOTHING
    RETURNING id, node, call_id, setup_at
), staged AS (
    SELECT i.id, i.setup_at, s.n
    FROM inserted i
    JOIN ss_cdr_in s ON s.node = i.node AND s.call_id = i.call_id
), inserted_attempts AS (
    INSERT INTO cdr_attempt (cdr_id, setup_at, seq, gateway, addr, transport, started_at,
                             ended_at, sip_code, outcome)
    SELECT st.id, st.setup_at, a.seq, a.gateway, a.addr, a.transport,
           'epoch'::timestamptz + a.started_ms * interval '1 ms',
           'epoch'::timestamptz + a.ended_ms * interval '1 ms',
           a.sip_code, a.outcome
    FROM staged st
    JOIN ss_attempt_in a ON a.n = st.n
)
SELECT n FROM staged
)SQL";

// Adds the batch's rollup rows, given as one array per column (BatchRollup::columns, the hour
// in epoch ms), to cdr_rollup (an upsert, which COPY cannot do), in key order, so two writers'
// transactions cannot deadlock on them.
constexpr const char* kAddRollupSql = R"SQL(
INSERT INTO cdr_rollup AS r (hour, term_gateway, sip_code, end_reason, end_direction,
                             calls, answered, answered_hold_ms, effective)
SELECT 'epoch'::timestamptz + hour_ms * interval '1 ms', term_gateway, sip_code, end_reason,
       end_direction, calls, answered, answered_hold_ms, effective
FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::bigint[],
            $7::bigint[], $8::bigint[], $9::bigint[])
     AS u(hour_ms, term_gateway, sip_code, end_reason, end_direction, calls, answered,
          answered_hold_ms, effective)
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (hour, term_gateway, sip_code, end_reason, end_direction) DO UPDATE SET
    calls = r.calls + excluded.calls,
    answered = r.answered + excluded.answered,
    answered_hold_ms = r.answered_hold_ms + excluded.answered_hold_ms,
    effective = r.effective + excluded.effective
)SQL";

// One id per call of a batch, for the COPY into `cdr`.
constexpr const char* kNextIdsSql = "SELECT nextval('cdr_id_seq') FROM generate_series(1, $1)";

constexpr const char* kNextIdsStatement = "ss_cdr_next_ids";
constexpr const char* kInsertStatement = "ss_cdr_insert";
constexpr const char* kInsertOneStatement = "ss_cdr_insert_one";
constexpr const char* kAddRollupStatement = "ss_cdr_add_rollup";

// Every this many batches a sink folds the pending PDD histograms into cdr_rollup_pdd
// (schema/0006): a few dozen batches' worth is folded in tens of milliseconds, and each entry of
// an hour's histogram is then rewritten once per fold instead of once per batch.
constexpr int kFoldPddEvery = 32;

std::string insertStagedSql(const std::string& where)
{
    std::string sql = kInsertStagedSql;
    const std::string name = "{where}";
    sql.replace(sql.find(name), name.size(), where);
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

// True when a PostgreSQL text column stores `s` byte for byte: no NUL, well-formed UTF-8.
bool storedAsIs(std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u == 0) {
            return false;
        }
        if (u < 0x80) {
            ++i;
            continue;
        }
        const std::size_t len = utf8Length(s.substr(i));
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

// `s` as sent to and stored by PostgreSQL, whose text cannot hold NUL (dropped) or invalid
// UTF-8 (U+FFFD, one per byte that starts no valid sequence).
std::string storedText(std::string_view s)
{
    if (storedAsIs(s)) {
        return std::string(s);
    }
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u < 0x80) {
            if (u != 0) {
                out += s[i];
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
    return out;
}

// A text already in its stored form, with backslash and the separators escaped.
void appendEscaped(std::string& out, std::string_view s)
{
    for (const char c : s) {
        switch (c) {
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
    }
}

// A text field.
void appendText(std::string& out, std::string_view s)
{
    if (storedAsIs(s)) {
        appendEscaped(out, s);
    } else {
        appendEscaped(out, storedText(s));
    }
}

void appendInt(std::string& out, std::int64_t value)
{
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    out.append(buf, end);
}

// How a line carries times: epoch milliseconds (the staging tables) or ISO-8601 text (`cdr`
// and `cdr_attempt`, whose timestamptz(3) columns read it as the same millisecond).
enum class Times { EpochMillis, Iso };

void appendTime(std::string& out, Times times, common::SysTime t)
{
    if (times == Times::EpochMillis) {
        appendInt(out, epochMillis(t));
    } else {
        appendIsoMillis(out, t);
    }
}

void appendTime(std::string& out, Times times, const std::optional<common::SysTime>& t)
{
    if (t) {
        appendTime(out, times, *t);
    } else {
        out += "\\N";
    }
}

// Appends the line of call `r` (no trailing newline), `key` its first column: the n of the
// staging table or the id in `cdr` (kCdrInColumns, kCdrColumns).
void appendCdrLine(std::string& out, std::int64_t key, const CdrRecord& r, Times times)
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
        appendTime(out, times, t);
        out += '\t';
    };
    integer(key);
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

// Appends the lines of the attempts of call `r`, each preceded by a newline unless `out` is
// empty; `key` as in appendCdrLine (kAttemptInColumns, kAttemptColumns).
void appendAttemptLines(std::string& out, std::int64_t key, const CdrRecord& r, Times times)
{
    for (const auto& a : r.attempts) {
        if (!out.empty()) {
            out += '\n';
        }
        appendInt(out, key);
        out += '\t';
        appendInt(out, a.seq);
        out += '\t';
        appendText(out, a.gateway);
        out += '\t';
        appendText(out, a.addr);
        out += '\t';
        appendText(out, a.transport);
        out += '\t';
        appendTime(out, times, a.startedAt);
        out += '\t';
        appendTime(out, times, a.endedAt);
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
        if (times == Times::Iso) {
            out += '\t';
            appendTime(out, times, r.setupAt);
        }
    }
}

// The calls of a batch, each once: a call id twice in one batch would insert its attempts
// twice; the first is kept.
std::vector<const CdrRecord*> distinctCalls(const std::vector<CdrRecord>& batch)
{
    std::vector<const CdrRecord*> calls;
    calls.reserve(batch.size());
    std::set<std::pair<std::string_view, std::string_view>> seen;
    for (const auto& r : batch) {
        if (seen.emplace(r.node, r.callId).second) {
            calls.push_back(&r);
        }
    }
    return calls;
}

// The calls and their attempts as COPY text for the staging tables; call n is calls[n].
struct StagedBatch {
    std::string cdrLines;      // ss_cdr_in, one line per call, no trailing newline
    std::string attemptLines;  // ss_attempt_in
};

StagedBatch stage(const std::vector<const CdrRecord*>& calls)
{
    StagedBatch out;
    out.cdrLines.reserve(calls.size() * 320);
    out.attemptLines.reserve(calls.size() * 200);
    for (std::size_t n = 0; n < calls.size(); ++n) {
        if (n > 0) {
            out.cdrLines += '\n';
        }
        appendCdrLine(out.cdrLines, static_cast<std::int64_t>(n), *calls[n], Times::EpochMillis);
        appendAttemptLines(out.attemptLines, static_cast<std::int64_t>(n), *calls[n],
                           Times::EpochMillis);
    }
    return out;
}

// --- the batch's share of the rollup (schema/0004), as cdr_rollup_rebuild computes it --------

constexpr std::int64_t kHourMs = 3'600'000;

// date_trunc('hour', setup_at, 'UTC') in epoch milliseconds.
std::int64_t hourOf(common::SysTime t)
{
    const std::int64_t ms = epochMillis(t);
    return (ms >= 0 ? ms / kHourMs : (ms - kHourMs + 1) / kHourMs) * kHourMs;
}

struct RollupCounts {
    std::int64_t calls = 0;
    std::int64_t answered = 0;
    std::int64_t answeredHoldMs = 0;
    std::int64_t effective = 0;
};

// (hour, term_gateway, sip_code, end_reason, end_direction): cdr_rollup's key, texts as stored.
using RollupKey = std::tuple<std::int64_t, std::string, int, std::string, std::string>;
// (hour, `cdr stats --by` dimension, group): a PDD histogram's key (cdr_rollup_pdd).
using PddKey = std::tuple<std::int64_t, std::string_view, std::string>;

// The batch's cdr_rollup rows as one array literal per column (kAddRollupSql's parameters), and
// its cdr_rollup_pdd_pending lines as COPY text.
struct BatchRollup {
    std::array<std::string, 9> columns;
    std::string pdd;
};

// An element of an array literal (PostgreSQL docs, "Array Value Input"): double-quoted, with
// `"` and backslash escaped; `s` is a text in its stored form.
void appendArrayElement(std::string& out, std::string_view s)
{
    out += '"';
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

BatchRollup rollUp(const std::vector<const CdrRecord*>& calls)
{
    std::map<RollupKey, RollupCounts> rows;
    std::map<PddKey, std::map<int, std::int64_t>> pdd;  // bucket → calls
    for (const CdrRecord* r : calls) {
        const std::int64_t hour = hourOf(r->setupAt);
        std::string gateway = storedText(r->termGateway);
        std::string reason = storedText(r->endReason);
        const std::string direction = toString(r->endDirection);
        const bool answered = r->answerAt.has_value();
        auto& counts = rows[{hour, gateway, r->sipCode, reason, direction}];
        ++counts.calls;
        if (answered) {
            ++counts.answered;
            counts.answeredHoldMs += r->holdMs();
        }
        if (isEffective(answered, reason, r->sipCode)) {
            ++counts.effective;
        }
        if (r->ringAt || r->answerAt) {
            const int bucket = pddBucket(r->pddMs());
            ++pdd[{hour, "gateway", std::move(gateway)}][bucket];
            ++pdd[{hour, "code", std::to_string(r->sipCode)}][bucket];
            ++pdd[{hour, "reason", std::move(reason)}][bucket];
            ++pdd[{hour, "end_direction", direction}][bucket];
        }
    }
    BatchRollup out;
    auto& c = out.columns;
    c.fill("{");
    for (const auto& [key, counts] : rows) {
        const auto& [hour, gateway, code, reason, direction] = key;
        if (c[0].size() > 1) {
            for (auto& column : c) {
                column += ',';
            }
        }
        appendInt(c[0], hour);
        appendArrayElement(c[1], gateway);
        appendInt(c[2], code);
        appendArrayElement(c[3], reason);
        appendArrayElement(c[4], direction);
        appendInt(c[5], counts.calls);
        appendInt(c[6], counts.answered);
        appendInt(c[7], counts.answeredHoldMs);
        appendInt(c[8], counts.effective);
    }
    for (auto& column : c) {
        column += '}';
    }
    for (const auto& [key, histogram] : pdd) {
        const auto& [hour, dimension, group] = key;
        if (!out.pdd.empty()) {
            out.pdd += '\n';
        }
        appendIsoMillis(out.pdd, fromEpochMillis(hour));
        out.pdd += '\t';
        out.pdd += dimension;
        out.pdd += '\t';
        appendEscaped(out.pdd, group);
        // Two arrays: the buckets ascending (the map's order), and the calls in each.
        for (const bool counts : {false, true}) {
            out.pdd += "\t{";
            const char* sep = "";
            for (const auto& [bucket, n] : histogram) {
                out.pdd += sep;
                appendInt(out.pdd, counts ? n : bucket);
                sep = ",";
            }
            out.pdd += '}';
        }
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
            conn_->prepare(kNextIdsStatement, kNextIdsSql);
            conn_->prepare(kInsertStatement, insertStagedSql(""));
            conn_->prepare(kInsertOneStatement, insertStagedSql("WHERE n = $1"));
            conn_->prepare(kAddRollupStatement, kAddRollupSql);
        }
    }

    std::vector<RejectedCdr> writeAll(const std::vector<CdrRecord>& batch)
    {
        const auto calls = distinctCalls(batch);
        try {
            try {
                insertNew(calls);
            } catch (const pqxx::unique_violation&) {
                // Some of these calls are stored already (a replay): again, skipping them.
                insertStaged(calls);
            }
            if (++batchesSinceFold_ >= kFoldPddEvery) {
                foldPdd();
            }
            return {};
        } catch (const pqxx::data_exception& e) {
            return writeOneByOne(calls, e.what());
        } catch (const pqxx::integrity_constraint_violation& e) {
            return writeOneByOne(calls, e.what());
        }
    }

    // Every call new: COPY straight into `cdr` and `cdr_attempt`.
    void insertNew(const std::vector<const CdrRecord*>& calls)
    {
        pqxx::work txn(*conn_);
        const auto ids = txn.exec_prepared(kNextIdsStatement, static_cast<int>(calls.size()));
        std::string cdrLines;
        std::string attemptLines;
        cdrLines.reserve(calls.size() * 400);
        attemptLines.reserve(calls.size() * 300);
        for (std::size_t i = 0; i < calls.size(); ++i) {
            const auto id = ids[static_cast<int>(i)][0].as<std::int64_t>();
            if (i > 0) {
                cdrLines += '\n';
            }
            appendCdrLine(cdrLines, id, *calls[i], Times::Iso);
            appendAttemptLines(attemptLines, id, *calls[i], Times::Iso);
        }
        copyLines(txn, "cdr", kCdrColumns, cdrLines);
        copyLines(txn, "cdr_attempt", kAttemptColumns, attemptLines);
        addRollup(txn, calls);
        txn.commit();
        cdrLog()->debug("wrote {} CDRs", calls.size());
    }

    // Through the staging tables, skipping the calls already stored.
    void insertStaged(const std::vector<const CdrRecord*>& calls)
    {
        pqxx::work txn(*conn_);
        copyStaged(txn, stage(calls));
        std::vector<const CdrRecord*> inserted;
        for (const auto& row : txn.exec_prepared(kInsertStatement)) {
            inserted.push_back(calls.at(row[0].as<std::size_t>()));
        }
        addRollup(txn, inserted);
        txn.commit();
        cdrLog()->debug("wrote {} CDRs ({} new)", calls.size(), inserted.size());
    }

    // Adds `inserted` (the calls this transaction inserted) to cdr_rollup and their PDDs to
    // cdr_rollup_pdd_pending; cdr_rollup first, the order cdr_rollup_rebuild locks them in.
    static void addRollup(pqxx::work& txn, const std::vector<const CdrRecord*>& inserted)
    {
        if (inserted.empty()) {
            return;
        }
        const BatchRollup rollup = rollUp(inserted);
        const auto& c = rollup.columns;
        txn.exec_prepared0(kAddRollupStatement, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                           c[8]);
        copyLines(txn, "cdr_rollup_pdd_pending", kPddPendingColumns, rollup.pdd);
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

    static void copyStaged(pqxx::work& txn, const StagedBatch& staged)
    {
        copyLines(txn, "ss_cdr_in", kCdrInColumns, staged.cdrLines);
        copyLines(txn, "ss_attempt_in", kAttemptInColumns, staged.attemptLines);
    }

    // A CDR the database refuses (a bug upstream) must not block every CDR behind it forever:
    // retry row by row and hand the refused ones back, so they can be repaired and re-fed.
    std::vector<RejectedCdr> writeOneByOne(const std::vector<const CdrRecord*>& calls,
                                           const std::string& why)
    {
        cdrLog()->warn("CDR batch refused ({}); retrying row by row", pg::oneLine(why));
        std::vector<RejectedCdr> rejected;
        std::vector<const CdrRecord*> inserted;
        // Plain savepoints: pqxx 6.4's subtransaction only issues its SAVEPOINT on exec(), not
        // on exec_prepared(), so it could not roll one row back. The staged rows were copied
        // before the first savepoint, so rolling back to it keeps them.
        pqxx::work txn(*conn_);
        copyStaged(txn, stage(calls));
        for (std::size_t i = 0; i < calls.size(); ++i) {
            txn.exec0("SAVEPOINT cdr_row");
            try {
                if (!txn.exec_prepared(kInsertOneStatement, static_cast<int>(i)).empty()) {
                    inserted.push_back(calls[i]);
                }
                txn.exec0("RELEASE SAVEPOINT cdr_row");
            } catch (const pqxx::data_exception& e) {
                txn.exec0("ROLLBACK TO SAVEPOINT cdr_row");
                rejected.push_back({*calls[i], pg::oneLine(e.what())});
            } catch (const pqxx::integrity_constraint_violation& e) {
                txn.exec0("ROLLBACK TO SAVEPOINT cdr_row");
                rejected.push_back({*calls[i], pg::oneLine(e.what())});
            }
        }
        addRollup(txn, inserted);
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
