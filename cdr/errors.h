// SPDX-License-Identifier: Apache-2.0
#pragma once

// Errors of the database layer that callers tell apart: swctl maps DbUnavailable (and any other
// ConfigError) to exit 1 and ValidationError to exit 2 (SPEC §1).

#include "common/config_error.h"

#include <stdexcept>
#include <string>

namespace ss::cdr {

/// The database cannot be reached (connection refused, no such socket, authentication failed,
/// connection lost). A ConfigError, so startup code that only knows ConfigError still stops.
struct DbUnavailable : ConfigError {
    using ConfigError::ConfigError;
};

/// A value the operator gave is refused; nothing was changed. `what()` names the field, the bad
/// value and what is allowed, ready to print after "swctl: ".
class ValidationError : public std::runtime_error {
public:
    ValidationError(std::string field, std::string value, const std::string& message)
        : std::runtime_error(message), field_(std::move(field)), value_(std::move(value))
    {
    }
    const std::string& field() const { return field_; }
    const std::string& value() const { return value_; }

private:
    std::string field_;
    std::string value_;
};

/// `field: "value" is not allowed; expected <expected>` — the standard wording.
ValidationError invalidValue(const std::string& field, const std::string& value,
                             const std::string& expected);

}  // namespace ss::cdr
