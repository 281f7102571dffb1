// SPDX-License-Identifier: Apache-2.0
#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace ss::common {

namespace {

std::mutex& registryMutex()
{
    static std::mutex m;
    return m;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& name)
{
    std::lock_guard lock(registryMutex());
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto created = spdlog::stderr_logger_mt(name);
    created->set_level(spdlog::get_level());
    created->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %n: %v");
    return created;
}

bool setLogLevel(const std::string& level)
{
    const auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") {
        return false;
    }
    spdlog::set_level(parsed);
    return true;
}

}  // namespace ss::common
