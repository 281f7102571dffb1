// SPDX-License-Identifier: Apache-2.0
#pragma once

// A strict checker of the Prometheus text exposition format 0.0.4, for tests: stricter than
// the format (HELP and TYPE required before a family's samples, no trailing comma in label
// sets), so what passes here passes any scraper.

#include <string>
#include <vector>

namespace ss::web::testing {

/// One problem per entry ("line N: ..."); empty when `text` is valid.
std::vector<std::string> validateExposition(const std::string& text);

}  // namespace ss::web::testing
