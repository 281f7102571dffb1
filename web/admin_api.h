// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the HTTP API needs of the provisioning and CDR database: the parts of cdr::AdminStore it
// serves, behind an interface so the router is tested with a fake and no PostgreSQL.

#include "cdr/admin_store.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ss::web {

/// The database operations of the HTTP API, with cdr::AdminStore's contracts and errors
/// (cdr::DbUnavailable, ss::ConfigError, cdr::ValidationError). Thread: any (implementations
/// serialise what needs it).
class AdminApi {
public:
    virtual ~AdminApi() = default;

    virtual std::map<std::string, std::string> storedParams() = 0;
    virtual std::optional<std::string> setParam(const std::string& name,
                                                const std::string& value) = 0;
    virtual std::optional<std::string> resetParam(const std::string& name) = 0;

    virtual std::vector<cdr::CdrRow> queryCdrs(const cdr::CdrQuery& query) = 0;
    virtual std::vector<cdr::CdrDetail> findCdrs(const std::string& callId) = 0;
    virtual std::vector<cdr::CdrStatsRow> cdrStats(const cdr::CdrStatsQuery& query) = 0;

    /// Enables or disables a gateway; false (nothing written) when there is no such gateway.
    virtual bool setGatewayEnabled(const std::string& name, bool enabled) = 0;
};

/// AdminApi on a cdr::AdminStore for `dsn`. The store is opened on first use and opened again
/// on the next call when that failed (the database may come up after the daemon), so
/// constructing this never touches the database. Calls are serialised (AdminStore allows one
/// caller at a time). Thread: any.
class AdminStoreApi final : public AdminApi {
public:
    explicit AdminStoreApi(std::string dsn);

    std::map<std::string, std::string> storedParams() override;
    std::optional<std::string> setParam(const std::string& name,
                                        const std::string& value) override;
    std::optional<std::string> resetParam(const std::string& name) override;
    std::vector<cdr::CdrRow> queryCdrs(const cdr::CdrQuery& query) override;
    std::vector<cdr::CdrDetail> findCdrs(const std::string& callId) override;
    std::vector<cdr::CdrStatsRow> cdrStats(const cdr::CdrStatsQuery& query) override;
    bool setGatewayEnabled(const std::string& name, bool enabled) override;

private:
    cdr::AdminStore& store();  // with mutex_ held

    std::string dsn_;
    std::mutex mutex_;
    std::unique_ptr<cdr::AdminStore> store_;
};

}  // namespace ss::web
