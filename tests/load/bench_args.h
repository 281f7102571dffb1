// SPDX-License-Identifier: Apache-2.0
#pragma once

// Command-line numbers of the benchmarks in tests/load.

#include <cstdio>
#include <cstdlib>

namespace ss::bench {

/// `text` as a positive integer; otherwise says so, naming `program` and option `name`, and
/// exits with status 2.
inline long positiveNumber(const char* program, const char* name, const char* text)
{
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value <= 0) {
        std::fprintf(stderr, "%s: %s: \"%s\" is not a positive integer\n", program, name, text);
        std::exit(2);
    }
    return value;
}

}  // namespace ss::bench
