-- SPDX-License-Identifier: Apache-2.0
-- softswitch schema 2: the failover router (issue 4): route site order, attempt codes.
-- Forward-only; applied by `swctl db migrate` in its own transaction after 0001.

-- The sites whose gateways a route's prefix tries, in order: comma-separated site names
-- (gateway.site), each 1-64 of [A-Za-z0-9_.-], no spaces; '' = no site ordering. The routes
-- of one prefix share one order: the first route (by id) that names one sets it
-- (common/provisioning.h RouteConfig::siteOrder). Adding a column leaves route_notify (a
-- statement trigger) as it is, so changes still reach a running softswitchd.
ALTER TABLE route
    ADD COLUMN site_order text NOT NULL DEFAULT ''
        CONSTRAINT route_site_order_check
        CHECK (site_order ~ '^([A-Za-z0-9_.-]{1,64}(,[A-Za-z0-9_.-]{1,64})*)?$');

-- cdr_attempt.outcome gains `skipped` (a gateway of the failover chain passed over without
-- an INVITE being sent to it). Schema 1 puts no CHECK on outcome, so nothing changes here: the
-- vocabulary (answered, rejected, cancelled, resend_exhausted, timeout_invite,
-- timeout_trying, timeout_ringing, early_hangup, timeout, transport_error, skipped) stays in
-- the code, and a CDR with an outcome newer than this list is never refused.
COMMENT ON COLUMN cdr_attempt.outcome IS
    'answered, rejected, cancelled, resend_exhausted, timeout_invite, timeout_trying, '
    'timeout_ringing, early_hangup, timeout, transport_error, skipped';

-- An attempt that ended without a final response from its gateway (a timeout, a transport
-- error, a skipped gateway) has no SIP code: NULL, not a 0 nobody sent. Rows written by
-- schema 1 with 0 are converted.
ALTER TABLE cdr_attempt
    ALTER COLUMN sip_code DROP NOT NULL,
    ALTER COLUMN sip_code DROP DEFAULT;
UPDATE cdr_attempt SET sip_code = NULL WHERE sip_code = 0;
