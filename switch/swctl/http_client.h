// SPDX-License-Identifier: Apache-2.0
#pragma once

// The few HTTP GETs swctl's live commands make to softswitchd's API (SPEC §1): plain HTTP,
// one request per connection, typically to 127.0.0.1. No Boost type in this header.

#include <chrono>
#include <stdexcept>
#include <string>

namespace ss::swctl {

/// Where the API is: `http://HOST[:PORT][/PREFIX]`.
struct ApiUrl {
    std::string host;    // IPv6 without brackets
    std::string port;    // "80" when not given
    std::string prefix;  // path before /api/v1/..., no trailing '/'; "" for none
    std::string text;    // as given, for messages
};

/// Parses `--api` / SOFTSWITCH_API. cdr::ValidationError (field --api) unless it is
/// `http://HOST[:PORT][/PATH]` (https is not supported: the API listens on plain HTTP).
ApiUrl parseApiUrl(const std::string& text);

/// The daemon could not be asked: connection refused, timeout, a broken reply. what() names the
/// URL and the error.
class HttpError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HttpResponse {
    int status = 0;
    std::string body;
};

/// GET `api.prefix + path` with `Authorization: Bearer <token>` when `token` is not empty.
/// The whole exchange (connect, send, receive) must end within `timeout`. Throws HttpError.
HttpResponse httpGet(const ApiUrl& api, const std::string& path, const std::string& token,
                     std::chrono::milliseconds timeout);

}  // namespace ss::swctl
