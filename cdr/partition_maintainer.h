// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace ss::cdr {

/// Runs maintainPartitions() (cdr/store.h) from softswitchd: at start and then every
/// `interval`, with the days-ahead default and the retention of the parameter
/// SS_CDR_RETENTION_DAYS as stored at that moment. Failures are logged and retried at the next
/// round; CDRs never wait for it (a CDR of a day without a partition lands in the DEFAULT
/// partition and moves when the day's partition is created). Thread: its own.
class PartitionMaintainer {
public:
    PartitionMaintainer(std::string dsn, std::chrono::seconds interval);
    ~PartitionMaintainer();
    PartitionMaintainer(const PartitionMaintainer&) = delete;
    PartitionMaintainer& operator=(const PartitionMaintainer&) = delete;

    void stop();

private:
    void run();
    void once();

    std::string dsn_;
    std::chrono::seconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ss::cdr
