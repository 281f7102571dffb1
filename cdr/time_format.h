// SPDX-License-Identifier: Apache-2.0
#pragma once

// Text form of CDR times, shared by the PostgreSQL layer and swctl.

#include "common/clock.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ss::cdr {

/// `2026-01-01T12:00:00.123Z`: ISO-8601 in UTC, truncated (not rounded) to milliseconds, so a
/// time written directly and one replayed from the spool store the same value.
std::string formatIsoMillis(common::SysTime t);
/// formatIsoMillis appended to `out`.
void appendIsoMillis(std::string& out, common::SysTime t);

/// Milliseconds since the Unix epoch, truncated towards the past.
std::int64_t epochMillis(common::SysTime t);
common::SysTime fromEpochMillis(std::int64_t ms);

/// An operator's time: ISO-8601 (`2026-01-31`, `2026-01-31T08:00`, `2026-01-31 08:00:05.250`,
/// with an optional `Z` or `±HH[:MM]` offset; no offset means UTC), `now`, or a time relative
/// to `now`: `-<N>s|m|h|d|w` (e.g. `-30m`, `-2d`). nullopt when the text is none of these.
std::optional<common::SysTime> parseTimeSpec(std::string_view text, common::SysTime now);

}  // namespace ss::cdr
