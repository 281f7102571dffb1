// SPDX-License-Identifier: Apache-2.0
#pragma once

// The two per-call rules of the CDR rollup (schema/0004), for the CDR sink, which adds up a
// batch's share of the rollup itself (cdr/pg/cdr_sink.cpp). They must agree with their SQL
// twins, which cdr_rollup_rebuild and `cdr stats` over raw rows use; tests/pg checks that they
// do, value by value.

#include <cstdint>
#include <string_view>

namespace ss::cdr {

/// schema/0004 cdr_pdd_bucket: below 128 ms a bucket per millisecond (negative counts as 0);
/// above, each [2^e, 2^(e+1)) ms cut into 64 buckets; values above 2^40 - 1 ms as 2^40 - 1.
int pddBucket(std::int64_t pddMs);

/// schema/0004 cdr_is_effective, the NER numerator (cdr/admin_store.h CdrStatsRow): answered,
/// or ended by the users' side.
bool isEffective(bool answered, std::string_view endReason, int sipCode);

}  // namespace ss::cdr
