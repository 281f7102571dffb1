// SPDX-License-Identifier: Apache-2.0
#include "cdr/errors.h"

namespace ss::cdr {

ValidationError invalidValue(const std::string& field, const std::string& value,
                             const std::string& expected)
{
    return ValidationError(field, value,
                           field + ": \"" + value + "\" is not allowed; expected " + expected);
}

}  // namespace ss::cdr
