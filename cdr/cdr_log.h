// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to cdr/: the component's named logger.

#include "common/log.h"

#include <spdlog/spdlog.h>

#include <memory>

namespace ss::cdr {

/// The spdlog logger named "cdr" (common/log.h creates it on first use). Thread: any.
inline std::shared_ptr<spdlog::logger> cdrLog() { return common::logger("cdr"); }

}  // namespace ss::cdr
