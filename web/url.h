// SPDX-License-Identifier: Apache-2.0
#pragma once

// Request targets (RFC 9112 §3.2 origin-form): path and query, percent-decoding.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ss::web {

/// `%XX` decoded (and `+` as a space when `plusIsSpace`, for query strings). nullopt when a `%`
/// is not followed by two hex digits or the result holds a NUL byte.
std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace);

/// `text` with everything but RFC 3986 unreserved characters percent-encoded.
std::string percentEncode(std::string_view text);

/// `text` for a log line: control bytes and bytes >= 0x7f as `\xNN`, at most 200 characters
/// (request targets are attacker-controlled; no line breaks into the log).
std::string loggable(std::string_view text);

struct Target {
    std::string path;  // still percent-encoded
    std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
};

/// Splits an origin-form target. nullopt when it does not start with '/', or a query name or
/// value does not decode. `a&&b=` gives ("a", "") and ("b", ""); empty pieces are skipped.
std::optional<Target> parseTarget(std::string_view target);

}  // namespace ss::web
