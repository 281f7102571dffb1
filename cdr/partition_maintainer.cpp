// SPDX-License-Identifier: Apache-2.0
#include "cdr/partition_maintainer.h"

#include "cdr/cdr_log.h"
#include "cdr/store.h"
#include "common/params.h"

#include <spdlog/spdlog.h>

namespace ss::cdr {

PartitionMaintainer::PartitionMaintainer(std::string dsn, std::chrono::seconds interval)
    : dsn_(std::move(dsn)), interval_(interval)
{
    thread_ = std::thread([this] { run(); });
}

PartitionMaintainer::~PartitionMaintainer() { stop(); }

void PartitionMaintainer::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void PartitionMaintainer::run()
{
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        once();
        lock.lock();
        wake_.wait_for(lock, interval_, [&] { return stopping_; });
    }
}

void PartitionMaintainer::once()
{
    try {
        const auto params = common::SwitchParams::fromStored(loadProvisioning(dsn_).params);
        const auto done =
            maintainPartitions(dsn_, kDefaultPartitionDaysAhead, params.cdrRetentionDays);
        if (!done.created.empty() || !done.dropped.empty() || done.defaultRowsDeleted > 0) {
            cdrLog()->info("CDR partitions: {} created, {} dropped (retention {} days), {} old "
                           "rows deleted from the default partition",
                           done.created.size(), done.dropped.size(), done.retentionDays,
                           done.defaultRowsDeleted);
        }
    } catch (const std::exception& e) {
        cdrLog()->warn("CDR partition maintenance failed ({}); next try in {} s", e.what(),
                       interval_.count());
    }
}

}  // namespace ss::cdr
