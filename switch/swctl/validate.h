// SPDX-License-Identifier: Apache-2.0
#pragma once

// swctl input validation. Every function either returns the parsed value or throws
// cdr::ValidationError whose message names the field, the bad value and what is allowed
// (SPEC §1), before anything is written.

#include "cdr/admin_store.h"
#include "common/clock.h"
#include "common/provisioning.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ss::swctl {

/// A gateway or other object name: `^[A-Za-z0-9_.-]{1,64}$`.
std::string parseName(const std::string& field, const std::string& text);

/// `--site-order`: comma-separated site names (each as parseName), each at most once, in the
/// order their gateways are tried; "" = no site ordering (an empty list).
std::vector<std::string> parseSiteOrder(const std::string& field, const std::string& text);

/// A decimal integer in [min, max]; the message says "an integer >= min" when max is INT_MAX.
int parseInt(const std::string& field, const std::string& text, int min, int max);

/// A positive 64-bit id.
std::int64_t parseId(const std::string& field, const std::string& text);

/// `origination` or `termination`.
common::GatewayRole parseRole(const std::string& field, const std::string& text);
/// `udp` or `tcp`.
common::Transport parseTransport(const std::string& field, const std::string& text);

struct HostPort {
    std::string host;         // IPv6 without brackets
    std::optional<int> port;  // 1-65535 when given
};

/// `HOST[:PORT]`: an IPv4 address, `[IPv6]` (or bare IPv6 without port), or a DNS name.
HostPort parseHostPort(const std::string& field, const std::string& text);

/// Dial digits for a route prefix or prefix-add: `[0-9*#+]`, at most `maxLength`, may be empty.
std::string parseDigits(const std::string& field, const std::string& text,
                        std::size_t maxLength);

/// One `--opt KEY=VALUE` (SPEC §3), key known and value checked for its kind.
std::pair<std::string, std::string> parseGatewayOption(const std::string& text);
/// The SPEC §3 option keys, sorted.
std::vector<std::string> gatewayOptionKeys();

/// The keys `swctl gateway set` takes: host, transport, capacity, cps, site, prefix-strip,
/// prefix-add, then the SPEC §3 option keys.
const std::vector<std::string>& gatewaySetKeys();
/// `swctl gateway set NAME KEY=VALUE...`: every pair checked as `gateway add` checks the same
/// value (`host` as --host, an option as --opt), the key naming the field in the message; each
/// key at most once. `site=` and `prefix-add=` clear the value; an option key with an empty
/// value removes the option (its default applies again).
cdr::GatewayChanges parseGatewayChanges(const std::vector<std::string>& keyValues);

/// An operator's time (cdr::parseTimeSpec: ISO-8601, now, -30m, -2d, ...).
common::SysTime parseTime(const std::string& field, const std::string& text,
                          common::SysTime now);

/// An end_reason word: `^[a-z0-9_]{1,64}$`.
std::string parseReason(const std::string& field, const std::string& text);

}  // namespace ss::swctl
