// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>

namespace ss {

/// Thrown at startup or when loading configuration; `main` logs it and exits non-zero.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace ss
