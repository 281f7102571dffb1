// SPDX-License-Identifier: Apache-2.0
#include "common/ids.h"

#include <random>

namespace ss::common {

std::string randomToken(std::size_t length)
{
    static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
    std::string out(length, '0');
    for (auto& c : out) {
        c = kAlphabet[pick(rng)];
    }
    return out;
}

}  // namespace ss::common
