// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace ss::common {

/// The named component logger (`sip`, `call`, `routing`, `cdr`, `web`, `sofia`, ...), created
/// on first use with the process-wide sinks and level. Thread: any.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

/// Sets the level of every logger, existing and future ("trace" … "off"). Returns false on an
/// unknown level name.
bool setLogLevel(const std::string& level);

}  // namespace ss::common
