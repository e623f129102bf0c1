-- Lianxin schema, PostgreSQL dialect. Portable conventions: TEXT ids, BIGINT epoch-ms times,
-- 0/1 integer flags, JSON as TEXT. Keep in step with ../sqlite/0001_init.sql.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE jurisdictions (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    level  TEXT NOT NULL,
    parent TEXT REFERENCES jurisdictions(code)
);

CREATE TABLE units (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    parent       TEXT REFERENCES units(code),
    jurisdiction TEXT REFERENCES jurisdictions(code)
);

CREATE TABLE categories (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    parent   TEXT REFERENCES categories(code),
    position BIGINT NOT NULL,
    leaf     TEXT
);

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    unit          TEXT REFERENCES units(code),
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users(username),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE order_counters (
    day  TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE orders (
    number        TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    request_type  TEXT NOT NULL,
    category      TEXT NOT NULL,
    urgency       TEXT NOT NULL,
    caller_phone  TEXT NOT NULL,
    confidential  BIGINT NOT NULL,
    street        TEXT NOT NULL,
    district      TEXT,
    lead_unit     TEXT,
    deadline      BIGINT,
    sign_deadline BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    closed_at     BIGINT,
    version       BIGINT NOT NULL,
    last_hash     TEXT NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX orders_status ON orders(status, number);
CREATE INDEX orders_phone ON orders(caller_phone, number);
CREATE INDEX orders_district ON orders(district, number);
CREATE INDEX orders_street ON orders(street, number);
CREATE INDEX orders_category ON orders(category, number);
CREATE INDEX orders_created ON orders(created_at);

-- Current lead and assisting units of each order: what scope queries join on.
CREATE TABLE order_units (
    number TEXT NOT NULL REFERENCES orders(number),
    unit   TEXT NOT NULL,
    role   TEXT NOT NULL,
    PRIMARY KEY (number, unit)
);
CREATE INDEX order_units_unit ON order_units(unit, number);

-- Append-only, hash-chained. No foreign key to orders: events are the record, the order
-- row is derived from them, and `verify` reports events whose order row is gone.
CREATE TABLE events (
    number      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    unit        TEXT,
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    comment     TEXT,
    payload     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (number, seq)
);
CREATE INDEX events_at ON events(at);

CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
