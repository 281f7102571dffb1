// SPDX-License-Identifier: Apache-2.0
#include "cdr/time_format.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <chrono>

namespace ss::cdr {

namespace {

using std::chrono::days;
using std::chrono::duration_cast;
using std::chrono::floor;
using std::chrono::milliseconds;

// Reads exactly `width` digits at `pos`; advances `pos`.
bool readDigits(std::string_view text, std::size_t& pos, std::size_t width, int& out)
{
    if (pos + width > text.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = 0; i < width; ++i) {
        const char c = text[pos + i];
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            return false;
        }
        out = out * 10 + (c - '0');
    }
    pos += width;
    return true;
}

bool consume(std::string_view text, std::size_t& pos, char c)
{
    if (pos < text.size() && text[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

// `Z`, `+HH`, `+HHMM`, `+HH:MM` (or `-`); empty = UTC. Returns the offset east of UTC.
std::optional<std::chrono::minutes> parseOffset(std::string_view text, std::size_t pos)
{
    if (pos == text.size()) {
        return std::chrono::minutes(0);
    }
    if (text.substr(pos) == "Z" || text.substr(pos) == "z") {
        return std::chrono::minutes(0);
    }
    const char sign = text[pos];
    if (sign != '+' && sign != '-') {
        return std::nullopt;
    }
    ++pos;
    int hours = 0;
    int minutes = 0;
    if (!readDigits(text, pos, 2, hours)) {
        return std::nullopt;
    }
    if (pos < text.size()) {
        consume(text, pos, ':');
        if (!readDigits(text, pos, 2, minutes)) {
            return std::nullopt;
        }
    }
    if (pos != text.size() || hours > 23 || minutes > 59) {
        return std::nullopt;
    }
    const std::chrono::minutes offset(hours * 60 + minutes);
    return sign == '-' ? -offset : offset;
}

std::optional<common::SysTime> parseIso(std::string_view text)
{
    std::size_t pos = 0;
    int year = 0;
    int month = 0;
    int day = 0;
    if (!readDigits(text, pos, 4, year) || !consume(text, pos, '-') ||
        !readDigits(text, pos, 2, month) || !consume(text, pos, '-') ||
        !readDigits(text, pos, 2, day)) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year(year),
                                          std::chrono::month(static_cast<unsigned>(month)),
                                          std::chrono::day(static_cast<unsigned>(day))};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    int hour = 0;
    int minute = 0;
    int second = 0;
    int millis = 0;
    if (consume(text, pos, 'T') || consume(text, pos, 't') || consume(text, pos, ' ')) {
        if (!readDigits(text, pos, 2, hour) || !consume(text, pos, ':') ||
            !readDigits(text, pos, 2, minute)) {
            return std::nullopt;
        }
        if (consume(text, pos, ':')) {
            if (!readDigits(text, pos, 2, second)) {
                return std::nullopt;
            }
            if (consume(text, pos, '.')) {
                // 1 to 9 fraction digits; keep milliseconds.
                int scale = 100;
                std::size_t digits = 0;
                while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
                    millis += (text[pos] - '0') * scale;
                    scale /= 10;
                    ++pos;
                    ++digits;
                }
                if (digits == 0 || digits > 9) {
                    return std::nullopt;
                }
            }
        }
    }
    if (hour > 23 || minute > 59 || second > 59) {
        return std::nullopt;
    }
    const auto offset = parseOffset(text, pos);
    if (!offset) {
        return std::nullopt;
    }
    const auto local = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                       std::chrono::minutes(minute) + std::chrono::seconds(second) +
                       milliseconds(millis);
    return std::chrono::time_point_cast<common::SysTime::duration>(local - *offset);
}

std::optional<common::SysTime> parseRelative(std::string_view text, common::SysTime now)
{
    if (text.size() < 3 || text[0] != '-') {
        return std::nullopt;
    }
    const char unit = text.back();
    const auto digits = text.substr(1, text.size() - 2);
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 0 ||
        n > 100L * 365 * 86400) {
        return std::nullopt;
    }
    std::int64_t seconds = 0;
    switch (unit) {
    case 's':
        seconds = n;
        break;
    case 'm':
        seconds = n * 60;
        break;
    case 'h':
        seconds = n * 3600;
        break;
    case 'd':
        seconds = n * 86400;
        break;
    case 'w':
        seconds = n * 7 * 86400;
        break;
    default:
        return std::nullopt;
    }
    return now - std::chrono::seconds(seconds);
}

}  // namespace

std::int64_t epochMillis(common::SysTime t)
{
    return floor<milliseconds>(t.time_since_epoch()).count();
}

common::SysTime fromEpochMillis(std::int64_t ms)
{
    return common::SysTime(duration_cast<common::SysTime::duration>(milliseconds(ms)));
}

void appendIsoMillis(std::string& out, common::SysTime t)
{
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{ms - day};
    const int year = static_cast<int>(ymd.year());  // 1677-2262: SysTime counts nanoseconds
    // By hand: the CDR sink formats several times per call, and fmt's general path costs ~5x.
    char text[] = "0000-00-00T00:00:00.000Z";
    const auto put = [&](std::size_t end, long long value, int width) {
        for (int i = 0; i < width; ++i) {
            text[end - 1 - static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    };
    put(4, year, 4);
    put(7, static_cast<unsigned>(ymd.month()), 2);
    put(10, static_cast<unsigned>(ymd.day()), 2);
    put(13, hms.hours().count(), 2);
    put(16, hms.minutes().count(), 2);
    put(19, hms.seconds().count(), 2);
    put(23, hms.subseconds().count(), 3);
    out.append(text, sizeof text - 1);
}

std::string formatIsoMillis(common::SysTime t)
{
    std::string out;
    appendIsoMillis(out, t);
    return out;
}

std::optional<common::SysTime> parseTimeSpec(std::string_view text, common::SysTime now)
{
    if (text == "now") {
        return now;
    }
    if (!text.empty() && text[0] == '-') {
        return parseRelative(text, now);
    }
    return parseIso(text);
}

}  // namespace ss::cdr
