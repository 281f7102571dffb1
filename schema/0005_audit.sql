-- SPDX-License-Identifier: Apache-2.0
-- softswitch schema 5: the audit trail of provisioning changes (issue "Operator control").
-- Forward-only; applied by `swctl db migrate` in its own transaction after 0004.
--
-- Every change made through AdminStore (swctl, the HTTP API) writes its rows here in the same
-- transaction as the change, so a change is never committed without its audit rows, and a
-- refused change leaves none. Nothing here raises NOTIFY: the audit is not provisioning.

CREATE TABLE audit (
    id          bigserial   PRIMARY KEY,
    -- The change's transaction time: every row of one change has the same `at`.
    at          timestamptz(3) NOT NULL DEFAULT now(),
    -- Who: `swctl:<OS user>` for swctl, the HTTP API's own name for changes made through it.
    actor       text        NOT NULL CHECK (actor <> ''),
    action      text        NOT NULL
                CHECK (action IN ('add', 'set', 'remove', 'enable', 'disable', 'reset')),
    object_kind text        NOT NULL CHECK (object_kind IN ('gateway', 'route', 'param')),
    -- The gateway's name, the route's id, the parameter's name.
    object_name text        NOT NULL,
    -- The field changed (a `swctl gateway set` key, `enabled`, or `value` for a parameter);
    -- NULL when a whole object was added or removed, its values then being a JSON object in
    -- new_value (add) or old_value (remove).
    field       text,
    old_value   text,  -- NULL: absent before (for a parameter: the default applied)
    new_value   text   -- NULL: absent after
);
CREATE INDEX audit_at_idx ON audit (at);
CREATE INDEX audit_object_idx ON audit (object_kind, object_name, at);
