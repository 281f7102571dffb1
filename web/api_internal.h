// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the router's translation units (api.cpp, api_cdr.cpp); not part of ss_web's API.

#include "common/clock.h"
#include "web/admin_api.h"
#include "web/json_views.h"

#include <boost/beast/http/status.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ss::web::detail {

/// An answer other than 200, thrown inside the router and turned into a JSON response.
struct HttpError {
    boost::beast::http::status status;
    Json body;          // {"error": ..., ...}
    std::string allow;  // the Allow header of a 405
};

/// 400 naming the field, the bad value and what is allowed, in cdr::invalidValue's wording.
HttpError invalidField(const std::string& field, const std::string& value,
                       const std::string& allowed);

using Query = std::vector<std::pair<std::string, std::string>>;

/// GET /api/v1/cdrs: {"cdrs": [cdrJson...]}.
Json cdrQueryBody(AdminApi& admin, const Query& query, common::SysTime now);
/// GET /api/v1/cdrs/CALL_ID: {"call_id", "cdrs": [cdrJson + "attempt_list"]}; 404 when none.
Json cdrShowBody(AdminApi& admin, const std::string& callId);
/// GET /api/v1/cdr-stats: as `swctl cdr stats --json`.
Json cdrStatsBody(AdminApi& admin, const Query& query, common::SysTime now);

}  // namespace ss::web::detail
