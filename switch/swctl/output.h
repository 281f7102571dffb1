// SPDX-License-Identifier: Apache-2.0
#pragma once

// How swctl prints: aligned tables for people, JSON (`--json`) and CSV for scripts.

#include "cdr/admin_store.h"
#include "cdr/cdr_json.h"
#include "common/provisioning.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ss::swctl {

using Row = std::vector<std::string>;
/// JSON objects keep the order their keys were added in (column order), for people reading it.
using Json = nlohmann::ordered_json;

/// Left-aligned columns separated by two spaces, headers first, on stdout.
void printTable(const Row& headers, const std::vector<Row>& rows);

/// RFC 4180 CSV with a header line, on stdout.
void printCsv(const Row& headers, const std::vector<Row>& rows);

/// Pretty-printed JSON and a newline on stdout (bytes that are not UTF-8 become U+FFFD).
void printJson(const Json& value);

/// The output format of a command with `--format table|json|csv`: `--json` means json (and
/// conflicts with another --format); default table. ValidationError (field --format) otherwise.
std::string outputFormat(bool json, const std::string& format);

/// A gateway as swctl shows it in JSON: its database column names.
Json gatewayJson(const common::GatewayConfig& gateway);
/// A route as swctl shows it in JSON: id, prefix, gateway (name), priority, weight and
/// site_order (an array of site names, empty for none).
Json routeJson(const common::RouteConfig& route);
/// A site order as text: `east,west`, "" for none.
std::string siteOrderText(const std::vector<std::string>& siteOrder);

/// The SPEC §4 `cdr` column names, in table order.
const Row& cdrColumns();
/// A CDR as text, in cdrColumns() order (absent times are empty); as JSON it is
/// cdr::cdrJson() (cdr/cdr_json.h), with exactly the cdrColumns() keys.
Row cdrCells(const cdr::CdrRow& row);

/// The columns of one attempt of a call's failover chain (`swctl cdr show`): the
/// `cdr_attempt` columns with duration_ms (ended_at − started_at) after ended_at.
const Row& attemptColumns();
/// An attempt as text, in attemptColumns() order; as JSON it is cdr::attemptJson(), with
/// exactly the attemptColumns() keys.
Row attemptCells(const cdr::CdrAttempt& attempt);

}  // namespace ss::swctl
