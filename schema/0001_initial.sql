-- SPDX-License-Identifier: Apache-2.0
-- softswitch schema 1: provisioning (gateways, routes, parameters) and CDRs.
-- Forward-only. `swctl db migrate` applies each file in its own transaction and records it in
-- schema_version.

CREATE TABLE gateway (
    id           bigserial PRIMARY KEY,
    name         text        NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    role         text        NOT NULL CHECK (role IN ('origination', 'termination')),
    host         text        NOT NULL,
    port         integer     NOT NULL DEFAULT 5060 CHECK (port BETWEEN 0 AND 65535),
    transport    text        NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
    capacity     integer     NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    cps          integer     NOT NULL DEFAULT 0 CHECK (cps >= 0),
    site         text        NOT NULL DEFAULT '',
    prefix_strip integer     NOT NULL DEFAULT 0 CHECK (prefix_strip BETWEEN 0 AND 32),
    prefix_add   text        NOT NULL DEFAULT '' CHECK (prefix_add ~ '^[0-9*#+]*$'),
    enabled      boolean     NOT NULL DEFAULT true,
    options      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE route (
    id         bigserial PRIMARY KEY,
    prefix     text        NOT NULL CHECK (prefix ~ '^[0-9*#+]*$'),
    gateway_id bigint      NOT NULL REFERENCES gateway (id) ON DELETE RESTRICT,
    priority   integer     NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 65535),
    weight     integer     NOT NULL DEFAULT 100 CHECK (weight BETWEEN 1 AND 65535),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (prefix, gateway_id)
);

-- SPEC §2 parameters that differ from their defaults. Absent = default.
CREATE TABLE param (
    name       text        PRIMARY KEY,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cdr (
    id             bigserial   PRIMARY KEY,
    node           text        NOT NULL,
    call_id        text        NOT NULL,
    caller         text        NOT NULL DEFAULT '',
    callee         text        NOT NULL DEFAULT '',
    callee_out     text        NOT NULL DEFAULT '',
    origin_gateway text        NOT NULL DEFAULT '',
    origin_addr    text        NOT NULL DEFAULT '',
    term_gateway   text        NOT NULL DEFAULT '',
    term_addr      text        NOT NULL DEFAULT '',
    attempts       integer     NOT NULL DEFAULT 0,
    setup_at       timestamptz(3) NOT NULL,
    ring_at        timestamptz(3),
    answer_at      timestamptz(3),
    end_at         timestamptz(3) NOT NULL,
    pdd_ms         bigint      NOT NULL DEFAULT 0,
    hold_ms        bigint      NOT NULL DEFAULT 0,
    end_direction  text        NOT NULL CHECK (end_direction IN ('caller', 'callee', 'switch')),
    end_reason     text        NOT NULL,
    disposition    text        NOT NULL CHECK (disposition IN ('recv_bye', 'send_bye',
                                   'recv_cancel', 'send_cancel', 'recv_refuse', 'send_refuse')),
    sip_code       integer     NOT NULL DEFAULT 0,
    sip_reason     text        NOT NULL DEFAULT '',
    q850_cause     integer     NOT NULL DEFAULT 0,
    written_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (node, call_id)
);
CREATE INDEX cdr_setup_at_idx ON cdr (setup_at);
CREATE INDEX cdr_term_gateway_idx ON cdr (term_gateway, setup_at);
CREATE INDEX cdr_end_reason_idx ON cdr (end_reason, setup_at);

CREATE TABLE cdr_attempt (
    cdr_id     bigint      NOT NULL REFERENCES cdr (id) ON DELETE CASCADE,
    seq        integer     NOT NULL,
    gateway    text        NOT NULL,
    addr       text        NOT NULL DEFAULT '',
    transport  text        NOT NULL DEFAULT 'udp',
    started_at timestamptz(3) NOT NULL,
    ended_at   timestamptz(3) NOT NULL,
    sip_code   integer     NOT NULL DEFAULT 0,
    outcome    text        NOT NULL,
    PRIMARY KEY (cdr_id, seq)
);

-- Every change to provisioning raises NOTIFY provisioning '<table>' (cdr/store.h
-- kProvisioningChannel), so a running softswitchd reloads within a second (SPEC §1).
CREATE FUNCTION notify_provisioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('provisioning', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER gateway_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gateway
    FOR EACH STATEMENT EXECUTE FUNCTION notify_provisioning();
CREATE TRIGGER route_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON route
    FOR EACH STATEMENT EXECUTE FUNCTION notify_provisioning();
CREATE TRIGGER param_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON param
    FOR EACH STATEMENT EXECUTE FUNCTION notify_provisioning();
