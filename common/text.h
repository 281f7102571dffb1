// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ss::common {

/// The items of a separated list such as `408,480,5xx` or `east,west`, spaces around each item
/// removed. "" has no items; empty items are kept (`a,,b` → a, "", b; `a,` → a, "") so that a
/// validator can refuse them.
std::vector<std::string> splitList(std::string_view text, char separator = ',');

}  // namespace ss::common
