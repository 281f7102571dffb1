// SPDX-License-Identifier: Apache-2.0
#include "cdr/call_journal.h"

#include "cdr/cdr_log.h"
#include "cdr/spool.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace ss::cdr {

namespace {

using json = nlohmann::json;

constexpr const char* kFileName = "calls.journal";

[[noreturn]] void throwErrno(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

void writeAll(int fd, const std::string& data, const std::string& path)
{
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throwErrno("write " + path);
        }
        done += static_cast<std::size_t>(n);
    }
}

void syncDir(const std::string& dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

std::string keyOf(const CdrRecord& r) { return r.node + '\n' + r.callId; }

std::string entry(const char* op, const CdrRecord& r)
{
    // The record is the spool's line format (full clock precision), embedded as is.
    return std::string(R"({"op":")") + op + R"(","cdr":)" + encodeSpoolLine(r) + "}\n";
}

std::int64_t nanosOf(common::SysTime t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

common::SysTime fromNanos(std::int64_t ns)
{
    return common::SysTime(
        std::chrono::duration_cast<common::SysTime::duration>(std::chrono::nanoseconds(ns)));
}

/// The CDR of a call the crash cut off: ended at the last instant it was known to be up.
CdrRecord restartCdr(CdrRecord r, common::SysTime lastKnown)
{
    r.endAt = std::max({lastKnown, r.setupAt, r.answerAt.value_or(r.setupAt),
                        r.ringAt.value_or(r.setupAt)});
    r.endDirection = EndDirection::Switch;
    r.endReason = "switch_restart";
    if (r.answerAt) {
        r.disposition = "send_bye";
        r.sipCode = 200;
        r.sipReason = "OK";
    } else {
        r.disposition = "send_refuse";
        r.sipCode = 503;
        r.sipReason = "Service Unavailable";
    }
    r.q850Cause = q850ForSip(r.sipCode);
    return r;
}

}  // namespace

std::vector<CdrRecord> CallJournal::recover(const std::string& dir)
{
    const std::string path = dir + "/" + kFileName;
    std::ifstream in(path);
    if (!in) {
        return {};
    }
    struct Open {
        CdrRecord record;
        common::SysTime lastKnown;
        std::size_t order;
    };
    std::map<std::string, Open> open;
    std::vector<std::pair<std::size_t, CdrRecord>> out;
    std::size_t order = 0;
    std::size_t lineNo = 0;
    std::size_t bad = 0;
    std::string line;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty()) {
            continue;
        }
        try {
            const json j = json::parse(line);
            const std::string op = j.at("op").get<std::string>();
            if (op == "beat") {
                const auto at = fromNanos(j.at("at_ns").get<std::int64_t>());
                for (auto& [key, call] : open) {
                    call.lastKnown = std::max(call.lastKnown, at);
                }
                continue;
            }
            CdrRecord r = decodeSpoolLine(j.at("cdr").dump());
            const std::string key = keyOf(r);
            if (op == "end") {
                open.erase(key);
                out.emplace_back(order++, std::move(r));
            } else if (op == "start" || op == "up") {
                auto it = open.find(key);
                const auto known = std::max(r.setupAt, r.answerAt.value_or(r.setupAt));
                if (it == open.end()) {
                    open.emplace(key, Open{std::move(r), known, order++});
                } else {
                    it->second.lastKnown = std::max(it->second.lastKnown, known);
                    it->second.record = std::move(r);
                }
            }
        } catch (const std::exception& e) {
            // A torn last line (killed mid-write) or damage: skip it, keep everything else.
            ++bad;
            cdrLog()->warn("{}:{}: unreadable journal line skipped ({})", path, lineNo, e.what());
        }
    }
    for (auto& [key, call] : open) {
        out.emplace_back(call.order, restartCdr(std::move(call.record), call.lastKnown));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<CdrRecord> records;
    records.reserve(out.size());
    for (auto& [o, r] : out) {
        records.push_back(std::move(r));
    }
    if (!records.empty() || bad > 0) {
        cdrLog()->warn("journal {}: {} CDRs to write again ({} calls were in progress), {} "
                       "unreadable lines",
                       path, records.size(), open.size(), bad);
    }
    return records;
}

CallJournal::CallJournal(const std::string& dir, std::function<std::uint64_t()> delivered,
                         std::size_t compactAbove)
    : dir_(dir),
      path_(dir + "/" + kFileName),
      delivered_(std::move(delivered)),
      compactAbove_(compactAbove),
      compactAfter_(compactAbove)
{
    std::filesystem::create_directories(dir_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throwErrno("open " + path_);
    }
    ::fsync(fd_);
    syncDir(dir_);
    syncer_ = std::thread([this] { syncLoop(); });
}

CallJournal::~CallJournal()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    syncer_.join();
    if (fd_ >= 0) {
        ::fdatasync(fd_);
        ::close(fd_);
    }
}

std::size_t CallJournal::inProgress() const
{
    std::lock_guard lock(mutex_);
    return open_.size();
}

void CallJournal::started(const CdrRecord& partial)
{
    auto line = std::make_shared<const std::string>(entry("start", partial));
    std::lock_guard lock(mutex_);
    append(*line);
    open_[keyOf(partial)] = std::move(line);
}

void CallJournal::answered(const CdrRecord& partial)
{
    auto line = std::make_shared<const std::string>(entry("up", partial));
    std::lock_guard lock(mutex_);
    append(*line);
    open_[keyOf(partial)] = std::move(line);
}

void CallJournal::ended(const CdrRecord& final, const std::function<std::uint64_t()>& submit)
{
    auto line = std::make_shared<const std::string>(entry("end", final));
    {
        std::lock_guard lock(mutex_);
        open_.erase(keyOf(final));
        append(*line);
    }
    const std::uint64_t ticket = submit();
    if (ticket != 0) {
        std::lock_guard lock(mutex_);
        ended_.push_back({ticket, std::move(line)});
    }
}

void CallJournal::beat(common::SysTime now)
{
    const std::string line = R"({"op":"beat","at_ns":)" + std::to_string(nanosOf(now)) + "}\n";
    std::lock_guard lock(mutex_);
    lastBeat_ = line;
    append(line);
}

void CallJournal::append(const std::string& line)
{
    try {
        writeAll(fd_, line, path_);
    } catch (const std::exception& e) {
        // The journal is a safety net: a full disk must not stop calls. Said loudly.
        cdrLog()->error("crash journal write failed ({}); calls in progress may be unbilled "
                        "after a crash",
                        e.what());
        return;
    }
    size_ += line.size();
    dirty_ = true;
    if (compacting_) {
        sinceSnapshot_ += line;  // the compacted file must have it too
    }
    wake_.notify_one();
}

void CallJournal::compact(std::unique_lock<std::mutex>& lock)
{
    // Under the lock: which lines the compacted file starts with (pointers to them; the sip-loop
    // waits for this part). Lines appended from here on go to the old file as usual and are
    // copied into the new one before it replaces the old.
    const std::uint64_t delivered = delivered_ ? delivered_() : 0;
    std::erase_if(ended_, [&](const Ended& e) { return e.ticket <= delivered; });
    std::vector<Line> lines;
    lines.reserve(ended_.size() + open_.size());
    for (const auto& e : ended_) {
        lines.push_back(e.line);
    }
    for (const auto& [key, line] : open_) {
        lines.push_back(line);
    }
    const std::string beat = lastBeat_;
    compacting_ = true;
    sinceSnapshot_.clear();
    lock.unlock();

    // Off the lock (and off the sip-loop): the text, the bulk of the writing and its fdatasync.
    std::size_t bytes = beat.size();
    for (const auto& line : lines) {
        bytes += line->size();
    }
    std::string data;
    data.reserve(bytes);
    for (const auto& line : lines) {
        data += *line;
    }
    data += beat;
    lines.clear();
    const std::string tmp = path_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    std::string error;
    try {
        if (fd < 0) {
            throwErrno("open " + tmp);
        }
        writeAll(fd, data, tmp);
        if (::fdatasync(fd) != 0) {
            throwErrno("fdatasync " + tmp);
        }
    } catch (const std::exception& e) {
        error = e.what();
    }

    lock.lock();
    compacting_ = false;
    if (error.empty()) {
        try {
            writeAll(fd, sinceSnapshot_, tmp);  // small: what came during the write above
            if (::rename(tmp.c_str(), path_.c_str()) != 0) {
                throwErrno("rename " + tmp);
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
    }
    sinceSnapshot_.clear();
    if (!error.empty()) {
        if (fd >= 0) {
            ::close(fd);
        }
        cdrLog()->error("crash journal compaction failed ({}); keeping the long file", error);
        compactAfter_ = size_ + compactAbove_;  // not again at once
        return;
    }
    retired_.push_back(fd_);  // synced and closed below, after the new file is in place
    fd_ = fd;
    struct stat st{};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::size_t>(st.st_size) : data.size();
    compactAfter_ = compactAbove_;
    dirty_ = true;  // the appended tail and the directory entry want a sync
    lock.unlock();
    syncDir(dir_);
    lock.lock();
}

void CallJournal::syncLoop()
{
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || dirty_ || !retired_.empty(); });
        if (stopping_) {
            break;
        }
        if (size_ > compactAfter_) {
            compact(lock);
        }
        const int fd = fd_;
        std::vector<int> retired;
        retired.swap(retired_);
        dirty_ = false;
        lock.unlock();
        ::fdatasync(fd);
        for (int old : retired) {
            ::close(old);
        }
        std::this_thread::sleep_for(kSyncEvery);
        lock.lock();
    }
    for (int old : retired_) {
        ::close(old);
    }
    retired_.clear();
}

}  // namespace ss::cdr
