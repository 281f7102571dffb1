// SPDX-License-Identifier: Apache-2.0
#include "cdr/spool.h"

#include "cdr/cdr_log.h"
#include "common/config_error.h"
#include "common/unique_fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace ss::cdr {

namespace {

using nlohmann::json;

constexpr int kSpoolFormat = 1;

std::int64_t toNanos(common::SysTime t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

common::SysTime fromNanos(std::int64_t ns)
{
    return common::SysTime(
        std::chrono::duration_cast<common::SysTime::duration>(std::chrono::nanoseconds(ns)));
}

json optionalNanos(const std::optional<common::SysTime>& t)
{
    return t ? json(toNanos(*t)) : json(nullptr);
}

std::optional<common::SysTime> readOptionalNanos(const json& j, const char* key)
{
    const auto& v = j.at(key);
    if (v.is_null()) {
        return std::nullopt;
    }
    return fromNanos(v.get<std::int64_t>());
}

EndDirection parseEndDirection(const std::string& text)
{
    if (text == "caller") {
        return EndDirection::Caller;
    }
    if (text == "callee") {
        return EndDirection::Callee;
    }
    if (text == "switch") {
        return EndDirection::Switch;
    }
    throw std::runtime_error("unknown end_direction \"" + text + "\"");
}

[[noreturn]] void throwErrno(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

using Fd = common::UniqueFd;

void writeAll(int fd, std::string_view data, const std::string& path)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throwErrno("write " + path);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Makes a create, rename or unlink in `dir` durable.
void fsyncDir(const std::string& dir)
{
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throwErrno("fsync " + dir);
    }
}

bool exists(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

off_t fileSize(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// Replaces `path` by its bytes from `offset` on (write a temporary file, fsync, rename).
void keepTail(const std::string& path, std::streamoff offset, const std::string& dir)
{
    std::ifstream in(path, std::ios::binary);
    in.seekg(offset);
    const std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string tmp = path + ".tmp";
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (fd.get() < 0) {
            throwErrno("open " + tmp);
        }
        writeAll(fd.get(), tail, tmp);
        if (::fsync(fd.get()) != 0) {
            throwErrno("fsync " + tmp);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        throwErrno("rename " + tmp);
    }
    fsyncDir(dir);
}

json spoolJson(const CdrRecord& r)
{
    json attempts = json::array();
    for (const auto& a : r.attempts) {
        attempts.push_back({{"seq", a.seq},
                            {"gateway", a.gateway},
                            {"addr", a.addr},
                            {"transport", a.transport},
                            {"started_at_ns", toNanos(a.startedAt)},
                            {"ended_at_ns", toNanos(a.endedAt)},
                            {"sip_code", a.sipCode},
                            {"outcome", a.outcome}});
    }
    return {{"v", kSpoolFormat},
            {"node", r.node},
            {"call_id", r.callId},
            {"caller", r.caller},
            {"callee", r.callee},
            {"callee_out", r.calleeOut},
            {"origin_gateway", r.originGateway},
            {"origin_addr", r.originAddr},
            {"term_gateway", r.termGateway},
            {"term_addr", r.termAddr},
            {"setup_at_ns", toNanos(r.setupAt)},
            {"ring_at_ns", optionalNanos(r.ringAt)},
            {"answer_at_ns", optionalNanos(r.answerAt)},
            {"end_at_ns", toNanos(r.endAt)},
            {"end_direction", toString(r.endDirection)},
            {"end_reason", r.endReason},
            {"disposition", r.disposition},
            {"sip_code", r.sipCode},
            {"sip_reason", r.sipReason},
            {"q850_cause", r.q850Cause},
            {"attempts", std::move(attempts)}};
}

// SIP text is not guaranteed to be UTF-8; never let one CDR make the spool unwritable.
std::string dumpLine(const json& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends `data` (whole lines) to `path` and fsyncs it (and `dir` when the file is new).
void appendDurably(const std::string& path, std::string data, const std::string& dir)
{
    Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        throwErrno("open " + path);
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) {
        throwErrno("stat " + path);
    }
    if (st.st_size > 0) {
        // A crash mid-append can leave a partial last line; start ours on a fresh line so the
        // damage stays confined to that one line.
        char last = '\n';
        if (::pread(fd.get(), &last, 1, st.st_size - 1) == 1 && last != '\n') {
            data.insert(data.begin(), '\n');
        }
    }
    writeAll(fd.get(), data, path);
    if (::fsync(fd.get()) != 0) {
        throwErrno("fsync " + path);
    }
    if (st.st_size == 0) {
        fsyncDir(dir);
    }
}

}  // namespace

namespace {

// A JSON string. Printable ASCII without quote or backslash (numbers, Call-IDs, names: nearly
// everything) is copied as is; anything else is left to nlohmann (escapes; invalid UTF-8
// becomes U+FFFD), so the text is the same as dumpLine() of spoolJson() would give.
void putString(std::string& out, std::string_view s)
{
    for (const unsigned char c : s) {
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out += dumpLine(json(std::string(s)));
            return;
        }
    }
    out += '"';
    out.append(s);
    out += '"';
}

void putKey(std::string& out, const char* key)
{
    out += '"';
    out += key;
    out += "\":";
}

void putField(std::string& out, const char* key, std::string_view value)
{
    putKey(out, key);
    putString(out, value);
    out += ',';
}

void putField(std::string& out, const char* key, std::int64_t value)
{
    putKey(out, key);
    out += std::to_string(value);
    out += ',';
}

void putField(std::string& out, const char* key, const std::optional<common::SysTime>& t)
{
    putKey(out, key);
    out += t ? std::to_string(toNanos(*t)) : std::string("null");
    out += ',';
}

}  // namespace

// The journal writes three of these per call on the sip-loop (start, answer, end), so the line
// is written directly rather than built as a json tree and dumped (the profile of a 300
// calls/s run had a tenth of the daemon's CPU in that). Same text as dumpLine(spoolJson(r)):
// the keys in the same (sorted) order, checked by the spool tests.
std::string encodeSpoolLine(const CdrRecord& r)
{
    std::string out;
    out.reserve(512 + 160 * r.attempts.size());
    out += '{';
    putField(out, "answer_at_ns", r.answerAt);
    putKey(out, "attempts");
    out += '[';
    for (std::size_t i = 0; i < r.attempts.size(); ++i) {
        const auto& a = r.attempts[i];
        out += i == 0 ? "{" : ",{";
        putField(out, "addr", a.addr);
        putField(out, "ended_at_ns", toNanos(a.endedAt));
        putField(out, "gateway", a.gateway);
        putField(out, "outcome", a.outcome);
        putField(out, "seq", a.seq);
        putField(out, "sip_code", a.sipCode);
        putField(out, "started_at_ns", toNanos(a.startedAt));
        putKey(out, "transport");
        putString(out, a.transport);
        out += '}';
    }
    out += "],";
    putField(out, "call_id", r.callId);
    putField(out, "callee", r.callee);
    putField(out, "callee_out", r.calleeOut);
    putField(out, "caller", r.caller);
    putField(out, "disposition", r.disposition);
    putField(out, "end_at_ns", toNanos(r.endAt));
    putField(out, "end_direction", toString(r.endDirection));
    putField(out, "end_reason", r.endReason);
    putField(out, "node", r.node);
    putField(out, "origin_addr", r.originAddr);
    putField(out, "origin_gateway", r.originGateway);
    putField(out, "q850_cause", r.q850Cause);
    putField(out, "ring_at_ns", r.ringAt);
    putField(out, "setup_at_ns", toNanos(r.setupAt));
    putField(out, "sip_code", r.sipCode);
    putField(out, "sip_reason", r.sipReason);
    putField(out, "term_addr", r.termAddr);
    putField(out, "term_gateway", r.termGateway);
    putKey(out, "v");
    out += std::to_string(kSpoolFormat);
    out += '}';
    return out;
}

std::string encodeSpoolLineViaTree(const CdrRecord& r) { return dumpLine(spoolJson(r)); }

CdrRecord decodeSpoolLine(std::string_view line)
{
    try {
        const json j = json::parse(line);
        if (j.at("v").get<int>() != kSpoolFormat) {
            throw std::runtime_error("unknown spool format " + j.at("v").dump());
        }
        CdrRecord r;
        r.node = j.at("node").get<std::string>();
        r.callId = j.at("call_id").get<std::string>();
        r.caller = j.at("caller").get<std::string>();
        r.callee = j.at("callee").get<std::string>();
        r.calleeOut = j.at("callee_out").get<std::string>();
        r.originGateway = j.at("origin_gateway").get<std::string>();
        r.originAddr = j.at("origin_addr").get<std::string>();
        r.termGateway = j.at("term_gateway").get<std::string>();
        r.termAddr = j.at("term_addr").get<std::string>();
        r.setupAt = fromNanos(j.at("setup_at_ns").get<std::int64_t>());
        r.ringAt = readOptionalNanos(j, "ring_at_ns");
        r.answerAt = readOptionalNanos(j, "answer_at_ns");
        r.endAt = fromNanos(j.at("end_at_ns").get<std::int64_t>());
        r.endDirection = parseEndDirection(j.at("end_direction").get<std::string>());
        r.endReason = j.at("end_reason").get<std::string>();
        r.disposition = j.at("disposition").get<std::string>();
        r.sipCode = j.at("sip_code").get<int>();
        r.sipReason = j.at("sip_reason").get<std::string>();
        r.q850Cause = j.at("q850_cause").get<int>();
        for (const auto& ja : j.at("attempts")) {
            CdrAttempt a;
            a.seq = ja.at("seq").get<int>();
            a.gateway = ja.at("gateway").get<std::string>();
            a.addr = ja.at("addr").get<std::string>();
            a.transport = ja.at("transport").get<std::string>();
            a.startedAt = fromNanos(ja.at("started_at_ns").get<std::int64_t>());
            a.endedAt = fromNanos(ja.at("ended_at_ns").get<std::int64_t>());
            a.sipCode = ja.at("sip_code").get<int>();
            a.outcome = ja.at("outcome").get<std::string>();
            r.attempts.push_back(std::move(a));
        }
        return r;
    } catch (const json::exception& e) {
        throw std::runtime_error(e.what());
    }
}

Spool::Spool(std::string dir)
    : dir_(std::move(dir)),
      spoolPath_(dir_ + "/cdr.spool"),
      replayPath_(dir_ + "/cdr.spool.replay"),
      rejectedPath_(dir_ + "/rejected.jsonl")
{
    if (dir_.empty()) {
        throw ConfigError("CDR spool directory is not set");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        throw ConfigError("cannot create CDR spool directory " + dir_ + ": " + ec.message());
    }
    if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
        throw ConfigError("CDR spool directory " + dir_ + " is not writable: " +
                          std::system_category().message(errno));
    }
}

void Spool::append(const std::vector<CdrRecord>& records)
{
    std::string data;
    for (const auto& r : records) {
        data += encodeSpoolLine(r);
        data += '\n';
    }
    std::lock_guard lock(mutex_);
    appendDurably(spoolPath_, std::move(data), dir_);
}

void Spool::reject(const std::vector<RejectedCdr>& rejected)
{
    if (rejected.empty()) {
        return;
    }
    std::string data;
    for (const auto& r : rejected) {
        json j = spoolJson(r.record);
        j["rejected"] = r.reason;
        data += dumpLine(j);
        data += '\n';
    }
    {
        std::lock_guard lock(mutex_);
        appendDurably(rejectedPath_, std::move(data), dir_);
    }
    for (const auto& r : rejected) {
        // An operator must act: repair the line and feed it in again.
        cdrLog()->error("CDR {} (node {}) REJECTED by the database ({}); kept in {}",
                        r.record.callId, r.record.node, r.reason, rejectedPath_);
    }
}

bool Spool::hasPending() const
{
    std::lock_guard lock(mutex_);
    return exists(replayPath_) || fileSize(spoolPath_) > 0;
}

std::uint64_t Spool::pendingBytes() const
{
    std::uint64_t bytes = 0;
    for (const auto* path : {&spoolPath_, &replayPath_}) {
        bytes += static_cast<std::uint64_t>(std::max<off_t>(fileSize(*path), 0));
    }
    return bytes;
}

std::size_t Spool::replay(CdrSink& sink, std::size_t maxBatch)
{
    std::size_t total = 0;
    for (;;) {
        if (!exists(replayPath_)) {
            std::lock_guard lock(mutex_);
            if (fileSize(spoolPath_) <= 0) {
                return total;
            }
            if (::rename(spoolPath_.c_str(), replayPath_.c_str()) != 0) {
                throwErrno("rename " + spoolPath_);
            }
            fsyncDir(dir_);
        }
        total += replayFile(sink, maxBatch);
    }
}

void Spool::trimReplayFile(std::streamoff offset)
{
    if (offset == 0) {
        return;
    }
    try {
        keepTail(replayPath_, offset, dir_);
    } catch (const std::exception& e) {
        // The whole file stays and is replayed again; the sink ignores duplicates.
        cdrLog()->warn("cannot trim CDR replay file {}: {}", replayPath_, e.what());
    }
}

std::size_t Spool::replayFile(CdrSink& sink, std::size_t maxBatch)
{
    std::ifstream in(replayPath_, std::ios::binary);
    if (!in) {
        throwErrno("open " + replayPath_);
    }
    std::vector<CdrRecord> batch;
    std::streamoff batchStart = 0;  // where the first line of `batch` starts
    std::size_t written = 0;
    const auto writeBatch = [&] {
        if (batch.empty()) {
            return;
        }
        try {
            reject(sink.write(batch));
        } catch (...) {
            trimReplayFile(batchStart);
            throw;
        }
        written += batch.size();
        batch.clear();
    };
    std::string line;
    std::size_t lineNo = 0;
    for (;;) {
        const std::streamoff lineStart = in.tellg();
        if (!std::getline(in, line)) {
            break;
        }
        ++lineNo;
        if (line.empty()) {
            continue;
        }
        try {
            auto record = decodeSpoolLine(line);
            if (batch.empty()) {
                batchStart = lineStart;
            }
            batch.push_back(std::move(record));
        } catch (const std::exception& e) {
            cdrLog()->warn("CDR spool {} line {}: skipping {} line ({}): {:.200}", replayPath_,
                           lineNo, in.eof() ? "truncated last" : "corrupt", e.what(), line);
        }
        if (batch.size() >= maxBatch) {
            writeBatch();
        }
    }
    writeBatch();
    in.close();
    if (::unlink(replayPath_.c_str()) != 0) {
        throwErrno("unlink " + replayPath_);
    }
    fsyncDir(dir_);
    return written;
}

}  // namespace ss::cdr
