// SPDX-License-Identifier: Apache-2.0
// HttpServer over a real loopback socket (OS-assigned port) with a Beast client.

#include "common/config_error.h"
#include "tests/web/fake_backend.h"
#include "web/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/socket.h>

#include <chrono>

namespace ss::web {
namespace {

using namespace ss::web::testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A blocking client; every read gives up after 10 s (SO_RCVTIMEO) so a bug fails, not hangs.
class Client {
public:
    explicit Client(std::uint16_t port) : socket_(ioc_)
    {
        socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        timeval tv{10, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    Response request(const Request& req)
    {
        http::write(socket_, req);
        return read();
    }

    Response read()
    {
        Response res;
        http::read(socket_, buffer_, res);
        return res;
    }

    void writeRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

    /// Whether the server closed the connection (end of stream or reset) without answering.
    bool closedByServer()
    {
        char byte = 0;
        beast::error_code ec;
        const auto n = socket_.read_some(asio::buffer(&byte, 1), ec);
        return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
    }

    tcp::socket& socket() { return socket_; }
    beast::flat_buffer& buffer() { return buffer_; }

private:
    asio::io_context ioc_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
};

class HttpServerTest : public ::testing::Test {
protected:
    void startServer(HttpServerConfig config = {})
    {
        admin_ = std::make_shared<FakeAdmin>();
        ApiBackend backend;
        backend.live = [] { return sampleLiveState(); };
        backend.admin = admin_;
        api_ = std::make_unique<Api>(backend, kToken, clock_);
        server_ = std::make_unique<HttpServer>(
            config, [api = api_.get()](const Request& req) { return api->handle(req); });
        server_->start();
    }

    common::ManualClock clock_;
    std::shared_ptr<FakeAdmin> admin_;
    std::unique_ptr<Api> api_;
    std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, BindsAnOsAssignedPortAndChecksTheToken)
{
    startServer();
    ASSERT_NE(server_->port(), 0);
    Client client(server_->port());
    const auto denied = client.request(makeRequest(http::verb::get, "/api/v1/calls", ""));
    EXPECT_EQ(denied.result(), http::status::unauthorized);
    EXPECT_EQ(denied[http::field::www_authenticate], "Bearer realm=\"softswitch\"");
    const auto ok = client.request(makeRequest(http::verb::get, "/api/v1/calls"));
    EXPECT_EQ(ok.result(), http::status::ok);
    EXPECT_NE(ok.body().find("abc@10.0.0.1"), std::string::npos);
}

TEST_F(HttpServerTest, KeepsTheConnectionAlive)
{
    startServer();
    Client client(server_->port());
    for (int i = 0; i < 5; ++i) {
        const auto res = client.request(makeRequest(http::verb::get, "/api/v1/ping", ""));
        ASSERT_EQ(res.result(), http::status::ok);
        EXPECT_TRUE(res.keep_alive());
    }
    EXPECT_EQ(server_->connectionsForTest(), 1u);
    // Connection: close is honoured.
    auto last = makeRequest(http::verb::get, "/api/v1/ping", "");
    last.keep_alive(false);
    EXPECT_FALSE(client.request(last).keep_alive());
    EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder)
{
    startServer();
    Client client(server_->port());
    client.writeRaw(
        "GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /api/v1/nope HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
        std::string(kToken) + "\r\n\r\n");
    EXPECT_EQ(client.read().result(), http::status::ok);
    EXPECT_EQ(client.read().result(), http::status::not_found);
}

TEST_F(HttpServerTest, PutWithABody)
{
    startServer();
    Client client(server_->port());
    const auto res = client.request(makeRequest(
        http::verb::put, "/api/v1/params/SS_SIP_TIMEOUT_INVITE", kToken, R"({"value":"12"})"));
    EXPECT_EQ(res.result(), http::status::ok) << res.body();
    EXPECT_EQ(admin_->stored["SS_SIP_TIMEOUT_INVITE"], "12");
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody)
{
    startServer();
    Client client(server_->port());
    const std::string body = R"({"value":"13"})";
    client.writeRaw("PUT /api/v1/params/SS_SIP_TIMEOUT_INVITE HTTP/1.1\r\nHost: x\r\n"
                    "Authorization: Bearer " + std::string(kToken) +
                    "\r\nExpect: 100-continue\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n");
    http::response_parser<http::empty_body> interim;
    http::read_header(client.socket(), client.buffer(), interim);
    EXPECT_EQ(interim.get().result(), http::status::continue_);
    client.writeRaw(body);
    const auto res = client.read();
    EXPECT_EQ(res.result(), http::status::ok) << res.body();
    EXPECT_EQ(admin_->stored["SS_SIP_TIMEOUT_INVITE"], "13");
}

TEST_F(HttpServerTest, RefusesATooLargeBodyBeforeReadingIt)
{
    HttpServerConfig config;
    config.maxBodyBytes = 1024;
    startServer(config);
    Client client(server_->port());
    client.writeRaw("PUT /api/v1/params/SS_SIP_SEND_RETRY HTTP/1.1\r\nHost: x\r\n"
                    "Authorization: Bearer " + std::string(kToken) +
                    "\r\nContent-Length: 2048\r\n\r\n");
    const auto res = client.read();
    EXPECT_EQ(res.result(), http::status::payload_too_large);
    EXPECT_FALSE(Json::parse(res.body(), nullptr, false).is_discarded());
    EXPECT_TRUE(admin_->setCalls.empty());
}

TEST_F(HttpServerTest, RefusesAnOversizedHeadAndGarbage)
{
    HttpServerConfig config;
    config.maxHeaderBytes = 1024;
    startServer(config);
    {
        Client client(server_->port());
        client.writeRaw("GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        std::string(4096, 'a') + "\r\n\r\n");
        EXPECT_EQ(client.read().result(), http::status::request_header_fields_too_large);
    }
    {
        Client client(server_->port());
        client.writeRaw("THIS IS NOT HTTP\r\n\r\n");
        EXPECT_EQ(client.read().result(), http::status::bad_request);
    }
    // Still serving.
    Client client(server_->port());
    EXPECT_EQ(client.request(makeRequest(http::verb::get, "/api/v1/ping", "")).result(),
              http::status::ok);
}

TEST_F(HttpServerTest, ClosesAnIdleConnectionAfterTheReadTimeout)
{
    HttpServerConfig config;
    config.readTimeout = std::chrono::milliseconds(100);
    startServer(config);
    Client client(server_->port());
    client.writeRaw("GET /api/v1/ping HTTP/1.1\r\n");  // never finished
    EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpServerTest, RefusesConnectionsOverTheLimit)
{
    HttpServerConfig config;
    config.maxConnections = 1;
    startServer(config);
    Client first(server_->port());
    ASSERT_EQ(first.request(makeRequest(http::verb::get, "/api/v1/ping", "")).result(),
              http::status::ok);
    Client second(server_->port());
    EXPECT_TRUE(second.closedByServer());
    EXPECT_EQ(first.request(makeRequest(http::verb::get, "/api/v1/ping", "")).result(),
              http::status::ok);
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndIsIdempotent)
{
    startServer();
    server_->start();  // a second start does nothing
    Client client(server_->port());
    ASSERT_EQ(client.request(makeRequest(http::verb::get, "/api/v1/ping", "")).result(),
              http::status::ok);
    const auto before = std::chrono::steady_clock::now();
    server_->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
    EXPECT_TRUE(client.closedByServer());
    server_->stop();
    EXPECT_THROW(server_->start(), ConfigError);
    // Nobody listens any more.
    EXPECT_THROW(Client{server_->port()}, boost::system::system_error);
}

TEST_F(HttpServerTest, StopWithoutStartAndDestructionWhileServing)
{
    HttpServer idle({}, [](const Request&) { return Response{}; });
    idle.stop();
    startServer();
    Client client(server_->port());
    ASSERT_EQ(client.request(makeRequest(http::verb::get, "/api/v1/ping", "")).result(),
              http::status::ok);
    server_.reset();  // the destructor stops
    EXPECT_TRUE(client.closedByServer());
}

TEST(HttpServer, BindFailuresAreConfigErrors)
{
    const HttpHandler handler = [](const Request&) { return Response{}; };
    HttpServer first({}, handler);
    first.start();
    HttpServerConfig taken;
    taken.port = first.port();
    HttpServer second(taken, handler);
    try {
        second.start();
        ADD_FAILURE() << "bound a port in use";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
                  std::string::npos)
            << e.what();
    }
    HttpServerConfig bad;
    bad.address = "localhost";  // a name, not an address
    HttpServer third(bad, handler);
    EXPECT_THROW(third.start(), ConfigError);
}

}  // namespace
}  // namespace ss::web
