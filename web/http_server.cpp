// SPDX-License-Identifier: Apache-2.0
#include "web/http_server.h"

#include "common/config_error.h"
#include "common/log.h"
#include "web/url.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace ss::web {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::shared_ptr<spdlog::logger> webLog()
{
    static const auto logger = common::logger("web");
    return logger;
}

// An error answer of the server itself (the request never reached the handler); the
// connection is closed after it.
Response plainError(http::status status, const char* message)
{
    Response res{status, 11};
    res.set(http::field::server, "softswitch");
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = std::string("{\"error\":\"") + message + "\"}\n";
    res.keep_alive(false);
    res.prepare_payload();
    return res;
}

}  // namespace

class HttpSession;

struct HttpServer::Impl {
    Impl(HttpServerConfig c, HttpHandler h) : config(std::move(c)), handler(std::move(h)) {}

    void accept();
    void closeAll();

    const HttpServerConfig config;
    const HttpHandler handler;
    // HttpSessions by address, touched on the server thread only (and by the destructor of the
    // io_context, after that thread has ended). Declared before `ioc`: it outlives the
    // sessions the io_context's pending handlers own.
    std::map<const HttpSession*, std::weak_ptr<HttpSession>> sessions;
    std::atomic<std::size_t> sessionCount{0};
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    asio::steady_timer acceptRetry{ioc};
    std::thread thread;
    std::mutex lifecycle;  // start/stop
    bool started = false;
    bool stopped = false;
    std::uint16_t port = 0;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(HttpServer::Impl& server, tcp::socket socket)
        : server_(server), stream_(std::move(socket))
    {
        beast::error_code ec;
        const auto peer = stream_.socket().remote_endpoint(ec);
        peer_ = ec ? std::string("?") : peer.address().to_string() + ":" +
                                            std::to_string(peer.port());
    }

    ~HttpSession()
    {
        server_.sessions.erase(this);
        server_.sessionCount = server_.sessions.size();
    }

    void start()
    {
        server_.sessions[this] = weak_from_this();
        server_.sessionCount = server_.sessions.size();
        readHeader();
    }

    void close()
    {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

private:
    void readHeader()
    {
        parser_.emplace();
        parser_->body_limit(server_.config.maxBodyBytes);
        parser_->header_limit(static_cast<std::uint32_t>(server_.config.maxHeaderBytes));
        stream_.expires_after(server_.config.readTimeout);
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                self->onHeader(ec);
            });
    }

    void onHeader(beast::error_code ec)
    {
        if (ec) {
            onReadError(ec);
            return;
        }
        // RFC 9110 §10.1.1: a client that waits for 100 Continue gets it before the body.
        const auto& head = parser_->get();
        const auto expect = head[http::field::expect];
        if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
            auto cont = std::make_shared<http::response<http::empty_body>>(
                http::status::continue_, head.version());
            http::async_write(stream_, *cont,
                              [self = shared_from_this(), cont](beast::error_code e,
                                                                std::size_t) {
                                  if (e) {
                                      self->close();
                                      return;
                                  }
                                  self->readBody();
                              });
            return;
        }
        readBody();
    }

    void readBody()
    {
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->onRequest(ec);
                         });
    }

    void onReadError(beast::error_code ec)
    {
        if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
            ec == beast::error::timeout || ec == asio::error::connection_reset ||
            ec == asio::error::eof) {
            close();
            return;
        }
        if (ec == http::error::body_limit) {
            reply(plainError(http::status::payload_too_large,
                             "the request body is larger than allowed"));
        } else if (ec == http::error::header_limit) {
            reply(plainError(http::status::request_header_fields_too_large,
                             "the request head is larger than allowed"));
        } else if (ec.category() == beast::error_code(http::error::bad_target).category()) {
            reply(plainError(http::status::bad_request, "malformed HTTP request"));
        } else {
            close();
        }
        webLog()->debug("http {}: request refused: {}", peer_, ec.message());
    }

    void onRequest(beast::error_code ec)
    {
        if (ec) {
            onReadError(ec);
            return;
        }
        const auto& req = parser_->get();
        Response res;
        try {
            res = server_.handler(req);
        } catch (const std::exception& e) {  // the handler should not throw; stay up if it does
            webLog()->error("http handler threw: {}", e.what());
            res = plainError(http::status::internal_server_error, "internal error");
        }
        webLog()->debug("http {} {} {} -> {}", peer_,
                        loggable({req.method_string().data(), req.method_string().size()}),
                        loggable({req.target().data(), req.target().size()}),
                        res.result_int());
        reply(std::move(res));
    }

    void reply(Response res)
    {
        auto shared = std::make_shared<Response>(std::move(res));
        const bool keepAlive = shared->keep_alive();
        stream_.expires_after(server_.config.readTimeout);  // a client that never reads
        http::async_write(stream_, *shared,
                          [self = shared_from_this(), shared, keepAlive](beast::error_code ec,
                                                                         std::size_t) {
                              if (ec || !keepAlive) {
                                  self->close();
                                  return;
                              }
                              self->readHeader();
                          });
    }

    HttpServer::Impl& server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string peer_;
};

void HttpServer::Impl::accept()
{
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
            return;
        }
        if (ec) {
            // Out of descriptors and the like: try again shortly rather than spin.
            webLog()->warn("http accept failed: {}", ec.message());
            acceptRetry.expires_after(std::chrono::milliseconds(100));
            acceptRetry.async_wait([this](beast::error_code e) {
                if (!e) {
                    accept();
                }
            });
            return;
        }
        if (sessions.size() >= config.maxConnections) {
            webLog()->warn("http: {} connections open, refusing another", sessions.size());
            beast::error_code ignored;
            socket.close(ignored);
        } else {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<HttpSession>(*this, std::move(socket))->start();
        }
        accept();
    });
}

void HttpServer::Impl::closeAll()
{
    beast::error_code ignored;
    acceptor.close(ignored);
    acceptRetry.cancel();
    for (auto& [ptr, weak] : sessions) {
        if (auto s = weak.lock()) {
            s->close();
        }
    }
}

HttpServer::HttpServer(HttpServerConfig config, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler)))
{
}

HttpServer::~HttpServer()
{
    stop();
}

void HttpServer::start()
{
    const std::lock_guard lock(impl_->lifecycle);
    if (impl_->stopped) {
        throw ConfigError("HttpServer: cannot start again after stop()");
    }
    if (impl_->started) {
        return;
    }
    const std::string where =
        impl_->config.address + ":" + std::to_string(impl_->config.port);
    beast::error_code ec;
    const auto address = asio::ip::make_address(impl_->config.address, ec);
    if (ec) {
        throw ConfigError("HTTP listen address " + where + ": not an IP address");
    }
    const tcp::endpoint endpoint(address, impl_->config.port);
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        beast::error_code ignored;
        acceptor.close(ignored);
        throw ConfigError("cannot listen for HTTP on " + where + ": " + ec.message());
    }
    impl_->port = acceptor.local_endpoint().port();
    impl_->accept();
    impl_->thread = std::thread([impl = impl_.get()] {
        for (;;) {
            try {
                impl->ioc.run();
                return;
            } catch (const std::exception& e) {  // a handler threw: log, keep serving
                webLog()->error("http server: {}", e.what());
            }
        }
    });
    impl_->started = true;
    webLog()->info("HTTP API listening on {}:{}", impl_->config.address, impl_->port);
}

void HttpServer::stop()
{
    const std::lock_guard lock(impl_->lifecycle);
    if (impl_->stopped) {
        return;
    }
    impl_->stopped = true;
    if (!impl_->started) {
        return;
    }
    asio::post(impl_->ioc, [impl = impl_.get()] {
        impl->closeAll();
        impl->ioc.stop();
    });
    impl_->thread.join();
    webLog()->info("HTTP API stopped");
}

std::uint16_t HttpServer::port() const
{
    return impl_->port;
}

std::size_t HttpServer::connectionsForTest() const
{
    return impl_->sessionCount;
}

}  // namespace ss::web
