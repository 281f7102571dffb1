#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `swctl cdr stats` benchmark (issue 5): loads ROWS generated CDRs set up within one UTC day
# into a migrated database, then times `swctl cdr stats` over that day for each --by.
# Not a test; see tests/load/README.md. The loaded rows bypass the CDR sink, so the script
# computes their hourly rollup (cdr_rollup_rebuild) as the last step of the load.
#
#   tests/load/stats_bench.sh SWCTL DSN [DAY [ROWS]]
#
# SWCTL: the built swctl; DSN: a libpq connection string of a throwaway database (it is
# migrated); DAY: YYYY-MM-DD (default yesterday, UTC), a day without a partition yet (the
# loaded table becomes it); ROWS: default 10000000. Needs psql. SKIP_LOAD=1 only re-times.
set -euo pipefail

swctl=${1:?usage: stats_bench.sh SWCTL DSN [DAY [ROWS]]}
dsn=${2:?usage: stats_bench.sh SWCTL DSN [DAY [ROWS]]}
day=${3:-$(date -u -d yesterday +%F)}
rows=${4:-10000000}

psql_() { psql -X -q -v ON_ERROR_STOP=1 -d "$dsn" "$@"; }
now_ns() { date +%s%N; }

part=cdr_p${day//-/}
"$swctl" --db "$dsn" db migrate >/dev/null

if [ "${SKIP_LOAD:-0}" != 1 ]; then
    echo "loading $rows CDRs set up on $day ..."
    start=$(now_ns)
    # Into a plain table shaped like cdr, then attached as the day's partition: building the
    # indexes once (sorted) is many times faster than maintaining nine of them row by row.
    # 20 termination gateways (2 % of the calls reached none), 55 % answered, the failures a
    # mix of busy, no answer, decline, cancel, all gateways failed, timeouts and no route.
    psql_ <<SQL
DROP TABLE IF EXISTS $part;
CREATE TABLE $part (LIKE cdr INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
SELECT setseed(0.5);
INSERT INTO $part (node, call_id, caller, callee, callee_out, origin_gateway, origin_addr,
                 term_gateway, term_addr, attempts, setup_at, ring_at, answer_at, end_at,
                 pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code,
                 sip_reason, q850_cause)
SELECT 'bench', 'stats-' || g || '@10.0.0.1', '4930' || (1000000 + g % 900000),
       '4989' || (2000000 + (g * 7) % 900000), '0049' || (89000000 + (g * 7) % 900000),
       'orig' || g % 4, '10.0.0.' || (1 + g % 4) || ':5060',
       CASE WHEN o.kind = 'no_route' THEN '' ELSE 'gw' || lpad((1 + g % 20)::text, 2, '0') END,
       CASE WHEN o.kind = 'no_route' THEN '' ELSE '10.0.1.' || (1 + g % 20) || ':5060' END,
       CASE WHEN o.kind = 'no_route' THEN 0 ELSE 1 + (g % 3 = 0)::int END,
       s.setup_at,
       CASE WHEN o.rang THEN s.setup_at + s.pdd END,
       CASE WHEN o.kind = 'answered' THEN s.setup_at + s.pdd + interval '2 s' END,
       s.setup_at + s.pdd + CASE WHEN o.kind = 'answered' THEN interval '2 s' + s.hold
                                 ELSE interval '5 s' END,
       CASE WHEN o.rang THEN (extract(epoch FROM s.pdd) * 1000)::bigint ELSE 0 END,
       CASE WHEN o.kind = 'answered' THEN (extract(epoch FROM s.hold) * 1000)::bigint ELSE 0 END,
       o.direction, o.reason, o.disposition, o.code, '', 16
FROM generate_series(1, $rows) g
CROSS JOIN LATERAL (
    SELECT '$day'::timestamptz + (g - 1) * (interval '86399 s' / $rows) AS setup_at,
           make_interval(secs => round((0.3 + random() * random() * 12)::numeric, 3)) AS pdd,
           make_interval(secs => round((random() * random() * 900)::numeric, 3)) AS hold,
           random() AS r
) s
CROSS JOIN LATERAL (
    SELECT * FROM (VALUES
        (0.55, 'answered', true, 'caller', 'caller_bye', 'recv_bye', 200),
        (0.68, 'busy', true, 'callee', 'callee_rejected', 'recv_refuse', 486),
        (0.74, 'noanswer', true, 'callee', 'callee_rejected', 'recv_refuse', 480),
        (0.77, 'decline', true, 'callee', 'callee_rejected', 'recv_refuse', 603),
        (0.85, 'cancel', true, 'caller', 'caller_cancel', 'recv_cancel', 487),
        (0.93, 'failed', false, 'switch', 'all_gateways_failed', 'send_refuse', 503),
        (0.95, 'ringing', true, 'switch', 'timeout_ringing', 'send_refuse', 408),
        (0.98, 'invite', false, 'switch', 'timeout_invite', 'send_refuse', 408),
        (1.01, 'no_route', false, 'switch', 'no_route', 'send_refuse', 404)
    ) AS v(upto, kind, rang, direction, reason, disposition, code)
    WHERE s.r < v.upto ORDER BY v.upto LIMIT 1
) o;
SQL
    echo "inserted in $(( ($(now_ns) - start) / 1000000 )) ms; attaching (index builds) ..."
    start=$(now_ns)
    psql_ <<SQL
SET maintenance_work_mem = '1GB';
ALTER TABLE cdr ATTACH PARTITION $part
    FOR VALUES FROM ('$day 00:00:00+00') TO ('$(date -u -d "$day + 1 day" +%F) 00:00:00+00');
SELECT count(*) FROM cdr_ensure_partitions('$day', '$day');
SQL
    echo "attached in $(( ($(now_ns) - start) / 1000000 )) ms; VACUUM ANALYZE ..."
    start=$(now_ns)
    psql_ -c "VACUUM ANALYZE $part"
    echo "vacuumed in $(( ($(now_ns) - start) / 1000000 )) ms; rolling up ..."
    # The rows went in around the CDR sink, so the hourly rollup that `cdr stats` reads
    # (schema/0004) is computed from them, as the migration does for existing calls.
    start=$(now_ns)
    psql_ -At -c "SELECT 'rollup rows: ' || cdr_rollup_rebuild('$day', '$day'::date + 1)"
    echo "rolled up in $(( ($(now_ns) - start) / 1000000 )) ms"
fi

psql_ -At -c "SELECT 'rows on $day: ' || count(*) FROM cdr
              WHERE setup_at >= '$day' AND setup_at < '$day'::date + 1"
psql_ -At -c "SELECT 'partition size: ' || pg_size_pretty(pg_total_relation_size('$part'))"
until=$(date -u -d "$day + 1 day" +%F)
for by in gateway code reason end-direction; do
    for run in 1 2 3; do
        start=$(now_ns)
        "$swctl" --db "$dsn" cdr stats --since "$day" --until "$until" --by "$by" >/tmp/stats_bench.$$.out
        echo "cdr stats --by $by, run $run: $(( ($(now_ns) - start) / 1000000 )) ms"
    done
    cat /tmp/stats_bench.$$.out
done
rm -f /tmp/stats_bench.$$.out
