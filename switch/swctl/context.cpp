// SPDX-License-Identifier: Apache-2.0
#include "switch/swctl/context.h"

namespace ss::swctl {

namespace {

constexpr const char* kDefaultStateDir = "/var/lib/softswitch";

}  // namespace

const std::string& Context::dsn()
{
    if (!dsn_.empty()) {
        return dsn_;
    }
    if (!db.empty()) {
        dsn_ = db;  // --db, or SOFTSWITCH_DB through CLI11's envname
        return dsn_;
    }
    const std::string dir = stateDir.empty() ? kDefaultStateDir : stateDir;
    embedded_ = std::make_unique<cdr::EmbeddedPostgres>(dir + "/pg");
    dsn_ = embedded_->start();
    return dsn_;
}

cdr::AdminStore& Context::store()
{
    if (!store_) {
        store_ = std::make_unique<cdr::AdminStore>(dsn());
    }
    return *store_;
}

}  // namespace ss::swctl
