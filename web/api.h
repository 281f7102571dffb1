// SPDX-License-Identifier: Apache-2.0
#pragma once

// The HTTP API router (issue "Operator control" §3): a function from a Beast request to a Beast
// response, with no sockets, so it is unit-tested with fake backends. HttpServer carries it.
//
//   GET    /  and  /ui/FILE                     the web page (web/ui), no token
//   GET    /api/v1/ping                         liveness, no token: {"ok":true}
//   POST   /api/v1/session                      body {"token":"..."}: sets the ss_token cookie
//   GET    /api/v1/session                      200 when the cookie (or bearer) is valid
//   DELETE /api/v1/session                      clears the cookie
//   GET    /api/v1/status                       node, start time, active calls, CPS, counters
//   GET    /api/v1/calls                        live calls
//   GET    /api/v1/gateways                     gateways with live health and counters
//   POST   /api/v1/gateways/NAME/enable|disable
//   GET    /api/v1/params                       SPEC §2 parameters
//   GET|PUT|DELETE /api/v1/params/NAME          PUT body {"value":"..."}; DELETE = reset
//   GET    /api/v1/cdrs?since=&until=&caller=&callee=&gateway=&end_direction=&code=&reason=&limit=
//          &before=CURSOR                       newest first; "next" is the cursor of the older page
//   GET    /api/v1/cdrs/CALL_ID                 the call and its attempts (percent-encoded id)
//   GET    /api/v1/cdr-stats?since=&until=&by=&top=&bucket=hour   bucket: also per UTC hour
//   GET    /metrics                             Prometheus text format 0.0.4
//
// Every answer but /metrics is JSON; errors are {"error": message, "field"?, "value"?,
// "allowed"?} with 400 (bad input), 401 (token), 404, 405 (+Allow), 413, 500, 501, 503.

#include "common/clock.h"
#include "common/live_state.h"
#include "web/admin_api.h"
#include "web/ui_files.h"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ss::web {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// Largest request body accepted (HttpServer refuses larger ones with 413 before routing).
inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

/// What the API serves, injected by the daemon (web/ never includes switch/).
struct ApiBackend {
    /// A copy of the live state, taken on the sip-loop. May throw (the loop did not answer in
    /// time, shutting down): the request gets 503. Empty: live endpoints answer 503.
    std::function<common::LiveState()> live;
    /// The database (AdminStoreApi in the daemon). Null: database endpoints answer 503.
    std::shared_ptr<AdminApi> admin;
    /// Optional extra exposition text appended to /metrics (complete families, each line
    /// ending in a newline); must not repeat a softswitch_* family.
    std::function<std::string()> metricsExtra;
    /// Where the web page comes from: empty = built into the binary; a directory = its files,
    /// read on every request (softswitchd's SOFTSWITCH_UI_DIR, for work on the page).
    std::string uiDir;
};

/// The router. Thread: any; handle() may run on several threads at once (the backend's
/// callbacks must allow that; AdminStoreApi does).
class Api {
public:
    /// `token`: the bearer token (loadToken()); `clock`: "now" for relative times such as
    /// `since=-1h`, must outlive the Api.
    Api(ApiBackend backend, std::string token, const common::Clock& clock);

    /// Answers one request. Never throws; the response has the request's HTTP version and
    /// keep-alive and a Content-Length (prepare_payload done).
    Response handle(const Request& request) const;

private:
    ApiBackend backend_;
    UiFiles ui_;
    std::string token_;
    const common::Clock& clock_;
};

}  // namespace ss::web
