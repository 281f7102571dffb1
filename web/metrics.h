// SPDX-License-Identifier: Apache-2.0
#pragma once

// GET /metrics: the live counters in the Prometheus text exposition format 0.0.4.

#include "common/live_state.h"

#include <string>
#include <string_view>

namespace ss::web {

/// The Content-Type of renderMetrics() output.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A label value escaped for the exposition format: `\` → `\\`, `"` → `\"`, newline → `\n`.
std::string escapeLabelValue(std::string_view value);

/// Every softswitch_* family with HELP and TYPE lines, one sample per series, ending in a
/// newline. Families whose labels come from the state (gateways, end reasons) are still
/// announced when they have no sample.
std::string renderMetrics(const common::LiveState& state);

}  // namespace ss::web
