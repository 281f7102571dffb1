// SPDX-License-Identifier: Apache-2.0
#pragma once

// The HTTP/1.1 server of the API (Boost.Beast): one io_context on a thread of its own,
// keep-alive, request limits and read timeouts; the answers come from a handler (Api::handle).

#include "web/api.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ss::web {

struct HttpServerConfig {
    std::string address = "127.0.0.1";  // IPv4 or IPv6 literal; the daemon picks the default
    std::uint16_t port = 0;             // 0: the OS picks one (see HttpServer::port())
    std::size_t maxBodyBytes = kMaxBodyBytes;    // larger bodies get 413
    std::size_t maxHeaderBytes = 16 * 1024;      // larger request heads get 431
    std::chrono::milliseconds readTimeout{30000};  // a request (head and body) within this
    std::size_t maxConnections = 256;  // more are accepted and closed at once
};

/// Answers one request; must not throw (Api::handle does not). Runs on the server thread.
using HttpHandler = std::function<Response(const Request&)>;

/// Thread: start(), stop(), port() and the destructor from one owning thread; the handler
/// runs on the server's own thread.
class HttpServer {
public:
    HttpServer(HttpServerConfig config, HttpHandler handler);
    /// stop()s.
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and listens (SO_REUSEADDR), then serves on a new thread. Throws ss::ConfigError
    /// naming the address when it cannot bind (nothing keeps running then). A second call
    /// does nothing; a server cannot be started again after stop().
    void start();
    /// Closes the listener and every connection (requests being answered are cut off) and
    /// joins the thread. Idempotent; returns without waiting for clients.
    void stop();
    /// The bound port (the OS's choice when the config said 0); 0 before start().
    std::uint16_t port() const;

    /// Connections open now (for tests).
    std::size_t connectionsForTest() const;

private:
    friend class HttpSession;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ss::web
