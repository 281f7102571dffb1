-- SPDX-License-Identifier: Apache-2.0
-- softswitch schema 4: CDR ingest and `swctl cdr stats` at scale (issue 5). An hourly rollup of
-- the calls that `cdr stats` reads instead of millions of `cdr` rows, kept by the CDR sink in
-- the transaction that inserts the calls; fewer indexes on `cdr`; retention covers the rollup.
-- Forward-only; applied by `swctl db migrate` in its own transaction after 0003. Existing calls
-- are rolled up here.

-- PDD histogram buckets (log-linear, like HdrHistogram with 7 significant bits): a pdd_ms
-- below 128 is its own bucket (exact to the millisecond); above, each power of two
-- [2^e, 2^(e+1)) is cut into 64 buckets of 2^(e-6) ms, so a bucket's width is at most 1/64
-- (1.6 %) of its values. Negative values count as 0; values above 2^40 - 1 ms (35 years) as
-- 2^40 - 1. Bucket b >= 128 holds [m << s, ((m + 1) << s) - 1] with s = b / 64 - 1 and
-- m = b % 64 + 64. cdr/pg/cdr_query.cpp reports a percentile as the highest value of the
-- bucket it falls in (cdr_pdd_bucket_high): exact below 128 ms, otherwise at most 1/64 above the
-- true percentile_disc, never below it.
CREATE FUNCTION cdr_pdd_msb(v bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 64 - position('1' IN v::bit(64)::text);
COMMENT ON FUNCTION cdr_pdd_msb(bigint) IS 'the index of the highest set bit of v > 0';

CREATE FUNCTION cdr_pdd_bucket(pdd_ms bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN pdd_ms < 128 THEN greatest(pdd_ms, 0)::integer
        ELSE ((cdr_pdd_msb(least(pdd_ms, 1099511627775)) - 6) * 64
              + (least(pdd_ms, 1099511627775) >> (cdr_pdd_msb(least(pdd_ms, 1099511627775)) - 6)))
             ::integer
    END;

CREATE FUNCTION cdr_pdd_bucket_high(bucket integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN bucket < 128 THEN bucket::bigint
        ELSE (((bucket % 64) + 65)::bigint << (bucket / 64 - 1)) - 1
    END;

-- One row per UTC hour of setup_at and (term_gateway, sip_code, end_reason, end_direction):
-- the counts of cdr/admin_store.h CdrStatsRow, exact. The failures of a row are its
-- calls - answered (the unanswered calls ended with its end_reason and sip_code).
CREATE TABLE cdr_rollup (
    hour             timestamptz NOT NULL CHECK (date_trunc('hour', hour, 'UTC') = hour),
    term_gateway     text        NOT NULL,
    sip_code         integer     NOT NULL,
    end_reason       text        NOT NULL,
    end_direction    text        NOT NULL,
    calls            bigint      NOT NULL,
    answered         bigint      NOT NULL,  -- answer_at set
    answered_hold_ms bigint      NOT NULL,  -- sum of hold_ms of the answered calls
    effective        bigint      NOT NULL,  -- the NER numerator (cdr_is_effective)
    CONSTRAINT cdr_rollup_pkey
        PRIMARY KEY (hour, term_gateway, sip_code, end_reason, end_direction)
);

-- The PDD histogram (calls with ring_at or answer_at set, by cdr_pdd_bucket) per UTC hour and
-- group of each `cdr stats --by`: dimension 'gateway' (grp: term_gateway, '' for none),
-- 'code' (sip_code as decimal text), 'reason' (end_reason), 'end_direction'. One histogram per
-- group rather than per cdr_rollup row: `cdr stats` adds up ~5x fewer entries. Sparse: bucket
-- numbers ascending, and the calls in each.
CREATE TABLE cdr_rollup_pdd (
    hour        timestamptz NOT NULL CHECK (date_trunc('hour', hour, 'UTC') = hour),
    dimension   text        NOT NULL
                CHECK (dimension IN ('gateway', 'code', 'reason', 'end_direction')),
    grp         text        NOT NULL,
    pdd_buckets integer[]   NOT NULL,
    pdd_counts  bigint[]    NOT NULL,
    CONSTRAINT cdr_rollup_pdd_pkey PRIMARY KEY (hour, dimension, grp)
);

-- NER numerator (cdr/admin_store.h CdrStatsRow): answered, or ended by the users' side.
CREATE FUNCTION cdr_is_effective(answered boolean, end_reason text, sip_code integer)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN answered OR end_reason IN ('caller_cancel', 'timeout_ringing')
        OR (end_reason = 'callee_rejected' AND sip_code IN (480, 486, 487, 600, 603));

-- The sum of two sparse histograms (bucket numbers ascending, counts).
CREATE FUNCTION cdr_pdd_merge(buckets_a integer[], counts_a bigint[],
                              buckets_b integer[], counts_b bigint[],
                              OUT buckets integer[], OUT counts bigint[])
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(b ORDER BY b), '{}'), coalesce(array_agg(n ORDER BY b), '{}')
    FROM (SELECT b, sum(n)::bigint AS n
          FROM (SELECT * FROM unnest(buckets_a, counts_a) AS x(b, n)
                UNION ALL
                SELECT * FROM unnest(buckets_b, counts_b) AS y(b, n)) u
          GROUP BY b) s
$$;

-- Recomputes the rollup (both tables) of the UTC hours [from_hour, to_hour) (each truncated
-- to its hour) from `cdr`: for the migration below, and after CDRs were loaded or deleted
-- other than through the CDR sink. Holds the rollup exclusively while it runs, so the CDR
-- sink's batches wait (and, past their statement timeout, are spooled and replayed later).
-- Returns the number of cdr_rollup rows written.
CREATE FUNCTION cdr_rollup_rebuild(from_hour timestamptz, to_hour timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    lo timestamptz := date_trunc('hour', from_hour, 'UTC');
    hi timestamptz := date_trunc('hour', to_hour, 'UTC');
    n  bigint;
BEGIN
    LOCK TABLE cdr_rollup, cdr_rollup_pdd IN EXCLUSIVE MODE;
    DELETE FROM cdr_rollup WHERE hour >= lo AND hour < hi;
    DELETE FROM cdr_rollup_pdd WHERE hour >= lo AND hour < hi;
    INSERT INTO cdr_rollup (hour, term_gateway, sip_code, end_reason, end_direction, calls,
                            answered, answered_hold_ms, effective)
    SELECT date_trunc('hour', setup_at, 'UTC'), term_gateway, sip_code, end_reason,
           end_direction, count(*), count(answer_at),
           coalesce(sum(hold_ms) FILTER (WHERE answer_at IS NOT NULL), 0),
           count(*) FILTER (WHERE cdr_is_effective(answer_at IS NOT NULL, end_reason, sip_code))
    FROM cdr
    WHERE setup_at >= lo AND setup_at < hi
    GROUP BY 1, 2, 3, 4, 5;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO cdr_rollup_pdd (hour, dimension, grp, pdd_buckets, pdd_counts)
    SELECT hour, dimension, grp, array_agg(bucket ORDER BY bucket), array_agg(calls ORDER BY bucket)
    FROM (SELECT date_trunc('hour', c.setup_at, 'UTC') AS hour, d.dimension, d.grp,
                 cdr_pdd_bucket(c.pdd_ms) AS bucket, count(*) AS calls
          FROM cdr c
          CROSS JOIN LATERAL (VALUES ('gateway', c.term_gateway), ('code', c.sip_code::text),
                                     ('reason', c.end_reason),
                                     ('end_direction', c.end_direction)) AS d(dimension, grp)
          WHERE c.setup_at >= lo AND c.setup_at < hi
            AND (c.ring_at IS NOT NULL OR c.answer_at IS NOT NULL)
          GROUP BY 1, 2, 3, 4) fine
    GROUP BY 1, 2, 3;
    RETURN n;
END
$$;

-- Retention as in schema 3, and the rollup hours before the cutoff too (two more rows:
-- cdr_rollup and cdr_rollup_pdd with the number of rows deleted).
CREATE OR REPLACE FUNCTION cdr_drop_partitions(retention_days integer)
    RETURNS TABLE (relation text, rows_deleted bigint)
    LANGUAGE plpgsql
    SET timezone = 'UTC'
    SET datestyle = 'ISO, YMD'
AS $$
DECLARE
    cutoff timestamptz;
    parent text;
    part   text;
    n      bigint;
BEGIN
    IF retention_days IS NULL OR retention_days < 0 THEN
        RAISE EXCEPTION 'retention_days must be 0 (keep forever) or more, not %', retention_days;
    END IF;
    IF retention_days = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(126939643867764);
    cutoff := ((now() AT TIME ZONE 'UTC')::date - retention_days)::timestamp AT TIME ZONE 'UTC';
    -- Attempts first, so no attempt is ever left without its call.
    FOREACH parent IN ARRAY ARRAY['cdr_attempt', 'cdr'] LOOP
        FOR part IN
            SELECT c.relname
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = parent::regclass
              AND substring(pg_get_expr(c.relpartbound, c.oid)
                            FROM 'TO \(''([^'']+)''\)')::timestamptz <= cutoff
            ORDER BY c.relname
        LOOP
            EXECUTE format('DROP TABLE %I', part);
            relation := part;
            rows_deleted := NULL;
            RETURN NEXT;
        END LOOP;
    END LOOP;
    DELETE FROM cdr_attempt_default WHERE setup_at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    relation := 'cdr_attempt_default';
    rows_deleted := n;
    RETURN NEXT;
    DELETE FROM cdr_default WHERE setup_at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    relation := 'cdr_default';
    rows_deleted := n;
    RETURN NEXT;
    -- The cutoff is midnight UTC, so every rollup hour before it has only dropped calls.
    DELETE FROM cdr_rollup WHERE hour < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    relation := 'cdr_rollup';
    rows_deleted := n;
    RETURN NEXT;
    DELETE FROM cdr_rollup_pdd WHERE hour < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    relation := 'cdr_rollup_pdd';
    rows_deleted := n;
    RETURN NEXT;
END
$$;

-- Indexes no query needs any more, each costing every CDR insert a random-order b-tree
-- insertion: caller and callee by prefix (`swctl cdr query --caller/--callee` is bounded by a
-- time range, which cdr_setup_at_idx serves; the prefix is a filter on that range). Kept:
-- setup_at alone and with term_gateway, end_reason, sip_code, end_direction (the equality
-- filters of `cdr query`, newest first within a range), the unique key (call_id first: the
-- idempotency key and `cdr show`), and the primary key (id, setup_at; ascending, cheap).
DROP INDEX cdr_caller_prefix_idx;
DROP INDEX cdr_callee_prefix_idx;

SELECT cdr_rollup_rebuild('-infinity', 'infinity');
