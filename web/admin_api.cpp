// SPDX-License-Identifier: Apache-2.0
#include "web/admin_api.h"

namespace ss::web {

AdminStoreApi::AdminStoreApi(std::string dsn) : dsn_(std::move(dsn)) {}

cdr::AdminStore& AdminStoreApi::store()
{
    if (!store_) {
        store_ = std::make_unique<cdr::AdminStore>(dsn_);  // throws DbUnavailable / ConfigError
        // Audit rows of changes made through the API (any holder of the token) name it.
        store_->setActor("http-api");
    }
    return *store_;
}

std::map<std::string, std::string> AdminStoreApi::storedParams()
{
    const std::lock_guard lock(mutex_);
    return store().storedParams();
}

std::optional<std::string> AdminStoreApi::setParam(const std::string& name,
                                                   const std::string& value)
{
    const std::lock_guard lock(mutex_);
    return store().setParam(name, value);
}

std::optional<std::string> AdminStoreApi::resetParam(const std::string& name)
{
    const std::lock_guard lock(mutex_);
    return store().resetParam(name);
}

std::vector<cdr::CdrRow> AdminStoreApi::queryCdrs(const cdr::CdrQuery& query)
{
    const std::lock_guard lock(mutex_);
    return store().queryCdrs(query);
}

std::vector<cdr::CdrDetail> AdminStoreApi::findCdrs(const std::string& callId)
{
    const std::lock_guard lock(mutex_);
    return store().findCdrs(callId);
}

std::vector<cdr::CdrStatsRow> AdminStoreApi::cdrStats(const cdr::CdrStatsQuery& query)
{
    const std::lock_guard lock(mutex_);
    return store().cdrStats(query);
}

bool AdminStoreApi::setGatewayEnabled(const std::string& name, bool enabled)
{
    const std::lock_guard lock(mutex_);
    auto& s = store();
    if (!s.findGateway(name)) {
        return false;
    }
    s.setGatewayEnabled(name, enabled);
    return true;
}

}  // namespace ss::web
