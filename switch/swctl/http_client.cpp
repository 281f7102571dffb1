// SPDX-License-Identifier: Apache-2.0
#include "switch/swctl/http_client.h"

#include "cdr/errors.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <regex>

namespace ss::swctl {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A generous cap on a reply: thousands of live calls are a few megabytes of JSON.
constexpr std::uint64_t kMaxBody = 256ull * 1024 * 1024;

}  // namespace

ApiUrl parseApiUrl(const std::string& text)
{
    // http://host[:port][/prefix], host a name, an IPv4 address or [IPv6].
    static const std::regex kUrl(
        R"(^http://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:([0-9]{1,5}))?(/.*)?$)");
    std::smatch m;
    if (!std::regex_match(text, m, kUrl) || (m[3].matched && std::stoi(m[3].str()) > 65535) ||
        (m[3].matched && std::stoi(m[3].str()) == 0)) {
        throw cdr::invalidValue("--api", text,
                                "http://HOST[:PORT] of softswitchd's HTTP API (e.g. "
                                "http://127.0.0.1:8088; https is not supported)");
    }
    ApiUrl url;
    url.host = m[1].str();
    if (url.host.front() == '[') {
        url.host = url.host.substr(1, url.host.size() - 2);
    }
    url.port = m[3].matched ? m[3].str() : "80";
    url.prefix = m[4].matched ? m[4].str() : "";
    while (!url.prefix.empty() && url.prefix.back() == '/') {
        url.prefix.pop_back();
    }
    url.text = text;
    return url;
}

HttpResponse httpGet(const ApiUrl& api, const std::string& path, const std::string& token,
                     std::chrono::milliseconds timeout)
{
    const std::string target = api.prefix + path;
    const std::string where = "http://" +
                              (api.host.find(':') != std::string::npos ? "[" + api.host + "]"
                                                                       : api.host) +
                              ":" + api.port + target;
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    beast::flat_buffer buffer;
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, api.host + ":" + api.port);
    request.set(http::field::user_agent, "swctl");
    request.set(http::field::accept, "application/json");
    if (!token.empty()) {
        request.set(http::field::authorization, "Bearer " + token);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);

    // Asynchronous operations under one deadline (the stream's expiry), run to completion
    // here: a daemon that accepts but never answers cannot hang swctl.
    beast::error_code failure;
    const char* stage = "resolving";
    resolver.async_resolve(
        api.host, api.port, [&](beast::error_code ec, const tcp::resolver::results_type& found) {
            if (ec) {
                failure = ec;
                return;
            }
            stage = "connecting";
            stream.expires_after(timeout);
            stream.async_connect(found, [&](beast::error_code ec2, const tcp::endpoint&) {
                if (ec2) {
                    failure = ec2;
                    return;
                }
                stage = "sending the request";
                http::async_write(stream, request, [&](beast::error_code ec3, std::size_t) {
                    if (ec3) {
                        failure = ec3;
                        return;
                    }
                    stage = "reading the reply";
                    http::async_read(stream, buffer, parser,
                                     [&](beast::error_code ec4, std::size_t) { failure = ec4; });
                });
            });
        });
    ioc.run();
    if (failure) {
        const std::string reason = failure == beast::error::timeout
                                       ? "no answer within " + std::to_string(timeout.count()) +
                                             " ms"
                                       : failure.message();
        throw HttpError("cannot reach softswitchd's API at " + where + " (" + stage +
                        "): " + reason);
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    auto response = parser.release();
    return {static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace ss::swctl
