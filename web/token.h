// SPDX-License-Identifier: Apache-2.0
#pragma once

// The HTTP API bearer token: from a file or the environment, never argv (STYLE §5).

#include <optional>
#include <string>
#include <string_view>

namespace ss::web {

/// Environment variable holding the token (`SOFTSWITCH_HTTP_TOKEN`).
inline constexpr const char* kTokenEnv = "SOFTSWITCH_HTTP_TOKEN";

/// The API token, from the first of:
///  1. `tokenFile` (`--http-token-file`) when not empty: its content with surrounding
///     whitespace removed. A warning is logged when group or others may read it.
///  2. `envValue` (the value of SOFTSWITCH_HTTP_TOKEN, nullopt when unset), trimmed.
///  3. `generatedFile`: a token generated earlier and kept there (reused, so a restart keeps
///     it), or a new random one (32 bytes as 64 hex digits) written there with mode 0600.
///     Where it is gets logged (never the token itself).
/// A token is 16 to 4096 characters from A-Z a-z 0-9 - . _ ~ + / = (RFC 6750 b64token, and
/// safe in a cookie). Throws ss::ConfigError naming the file or variable when it cannot be
/// read or written, is empty, or holds anything else. Thread: any (start-up).
std::string loadToken(const std::string& tokenFile, const std::optional<std::string>& envValue,
                      const std::string& generatedFile);

/// Whether `text` is a well-formed token (see loadToken).
bool isValidToken(std::string_view text);

/// A new random token: 32 bytes from the kernel's CSPRNG as 64 lowercase hex digits.
std::string generateToken();

/// Compares without an early exit, so the time taken does not tell how much of `given`
/// matched (only, at most, its length).
bool tokenEquals(std::string_view given, std::string_view expected);

}  // namespace ss::web
