// SPDX-License-Identifier: Apache-2.0
#pragma once

// The JSON shapes of the HTTP API. CDR rows, attempts and stats come from cdr/cdr_json.h, the
// same builders `swctl ... --json` uses, so scripts can move between the two; live state is
// common::LiveState in snake_case.

#include "cdr/admin_store.h"
#include "cdr/cdr_json.h"
#include "common/live_state.h"
#include "common/params.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace ss::web {

/// Keys stay in the order they were added (column order), for people reading it.
using Json = nlohmann::ordered_json;

/// Compact JSON text; bytes that are not UTF-8 become U+FFFD (never throws on bad input).
std::string dumpJson(const Json& value);

Json optionalTime(const std::optional<common::SysTime>& t);

Json callJson(const common::LiveCall& call);
Json liveGatewayJson(const common::LiveGateway& gateway);

/// One parameter as `swctl param get --json` (name, value in effect, default, allowed,
/// changed, stored, meaning, error when the stored value is refused), plus `differs`: the
/// value in effect is not the default (the same as `changed`, under the name the web page
/// uses).
Json paramJson(const common::ParamSpec& spec, const std::map<std::string, std::string>& stored);

}  // namespace ss::web
