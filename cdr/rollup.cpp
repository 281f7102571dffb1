// SPDX-License-Identifier: Apache-2.0
#include "cdr/rollup.h"

#include <algorithm>
#include <bit>

namespace ss::cdr {

int pddBucket(std::int64_t pddMs)
{
    if (pddMs < 128) {
        return static_cast<int>(std::max<std::int64_t>(pddMs, 0));
    }
    const auto v = static_cast<std::uint64_t>(std::min<std::int64_t>(pddMs, (1LL << 40) - 1));
    const int shift = std::bit_width(v) - 1 - 6;  // the highest set bit, less 6
    return shift * 64 + static_cast<int>(v >> shift);
}

bool isEffective(bool answered, std::string_view endReason, int sipCode)
{
    if (answered || endReason == "caller_cancel" || endReason == "timeout_ringing") {
        return true;
    }
    if (endReason != "callee_rejected") {
        return false;
    }
    switch (sipCode) {
    case 480:
    case 486:
    case 487:
    case 600:
    case 603:
        return true;
    default:
        return false;
    }
}

}  // namespace ss::cdr
