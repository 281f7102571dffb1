// SPDX-License-Identifier: Apache-2.0
#include "switch/swctl/context.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

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
        store_->setActor(actor());
    }
    return *store_;
}

std::string Context::actor()
{
    const uid_t uid = ::getuid();
    const passwd* pw = ::getpwuid(uid);
    const std::string user = pw != nullptr ? pw->pw_name : "uid" + std::to_string(uid);
    // sudo runs us as root; the audit should still say who asked.
    const char* sudoUser = std::getenv("SUDO_USER");
    if (uid == 0 && sudoUser != nullptr && *sudoUser != '\0' && user != sudoUser) {
        return "swctl:" + std::string(sudoUser) + "(sudo " + user + ")";
    }
    return "swctl:" + user;
}

}  // namespace ss::swctl
