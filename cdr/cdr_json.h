// SPDX-License-Identifier: Apache-2.0
#pragma once

// The JSON shapes of CDR rows, attempts and stats groups, shared by `swctl ... --json` and the
// HTTP API (web/) so the two print the same keys and values.

#include "cdr/admin_store.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ss::cdr {

/// Keys stay in the order they were added (column order), for people reading it.
using Json = nlohmann::ordered_json;

/// A CDR with exactly the SPEC §4 `cdr` column keys; times ISO-8601 UTC with milliseconds,
/// absent times null.
Json cdrJson(const CdrRow& row);
/// One `cdr_attempt` row with duration_ms (ended_at − started_at) after ended_at; sip_code 0
/// (no reply) is null.
Json attemptJson(const CdrAttempt& attempt);
/// The CDRs of one Call-ID as `swctl cdr show --json`: an array of cdrJson() objects, each with
/// `attempt_list` (attemptJson() items) added; `attempts` stays the count, as in a query.
Json cdrDetailsJson(const std::vector<CdrDetail>& calls);
/// One group of `swctl cdr stats --json`: asr and ner rounded to 4 places, acd_s to 1.
Json statsJson(const CdrStatsRow& row);

/// A whole `swctl cdr stats --json` answer: by (the word as given), since, until (null when
/// open) and groups (statsJson() of each row, in order).
Json statsReportJson(const std::string& by, const CdrStatsQuery& query,
                     const std::vector<CdrStatsRow>& rows);

/// What a CDR time filter (since, until) accepts, for the error of a value
/// cdr::parseTimeSpec() refuses.
inline constexpr const char* kTimeSpecAllowed =
    "an ISO-8601 time (2026-01-31, 2026-01-31T08:00:00Z, 2026-01-31 08:00+02:00), now, or -N "
    "followed by s, m, h, d or w (e.g. -30m, -2d)";

/// An end reason word of a CDR query: 1 to 64 characters from a-z 0-9 _ (no_route,
/// callee_bye).
bool isReasonWord(const std::string& text);

/// The `end_direction` words of a CDR query (caller, callee, switch, as cdr::toString());
/// nullopt for any other text (the caller reports it in its own error shape).
std::optional<EndDirection> endDirectionFromWord(const std::string& text);
/// The `--by` / `by` words of a stats query (gateway, code, reason, end-direction); nullopt for
/// any other text (the caller reports it in its own error shape).
std::optional<StatsGroup> statsGroupFromWord(const std::string& text);

}  // namespace ss::cdr
