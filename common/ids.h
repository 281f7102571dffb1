// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace ss::common {

/// A random token of `length` characters from [0-9a-z], for SIP tags, Call-IDs and branches
/// (RFC 3261 §19.3 asks for at least 32 bits of randomness). Thread: any (thread-local state).
std::string randomToken(std::size_t length);

}  // namespace ss::common
