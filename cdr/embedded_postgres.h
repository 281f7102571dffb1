// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace ss::cdr {

/// A private PostgreSQL 15 cluster under `dir` (the embedded default when softswitchd gets no
/// --db). `start()` runs initdb the first time, starts the server listening only on a Unix
/// socket in `dir` (and on 127.0.0.1:port when port != 0), creates the `softswitch` database
/// and returns its DSN. When running as root the server runs as the `postgres` OS user
/// (PostgreSQL refuses root). Throws ConfigError on failure.
///
/// Layout: `<dir>/data` (PGDATA), `<dir>/run` (socket directory), `<dir>/postgres.log`.
/// Binaries: /usr/lib/postgresql/15/bin. `dir` may contain only [A-Za-z0-9/_.+-] and, as root,
/// every directory down to it must be traversable by the postgres user (mode 755).
/// A server already running on `<dir>/data` is used as it is and left running by stop().
class EmbeddedPostgres {
public:
    explicit EmbeddedPostgres(std::string dir, int port = 0);
    EmbeddedPostgres(const EmbeddedPostgres&) = delete;
    EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;
    /// Returns `host=<dir>/run port=<port or 5432> dbname=softswitch user=postgres`.
    std::string start();
    /// Stops the server if this object started it (pg_ctl stop -m fast); a no-op otherwise.
    /// Throws ConfigError when pg_ctl fails.
    void stop();
    /// stop(), logging instead of throwing.
    ~EmbeddedPostgres();

private:
    std::string dir_;
    int port_;
    bool started_ = false;
};

}  // namespace ss::cdr
