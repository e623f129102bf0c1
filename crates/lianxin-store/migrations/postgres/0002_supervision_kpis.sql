-- Supervision, QA, notifications and KPI rollups (issue 4). Keep in step with
-- ../sqlite/0002_supervision_kpis.sql.

ALTER TABLE orders ADD COLUMN dispatched_at BIGINT;
ALTER TABLE orders ADD COLUMN callback_deadline BIGINT;
-- When the yellow warning falls due for the current deadline.
ALTER TABLE orders ADD COLUMN warn_at BIGINT;
-- The supervision warning given for the current deadline: 0 none, 1 yellow, 2 red.
ALTER TABLE orders ADD COLUMN warn_level BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN qa_status TEXT;
CREATE INDEX orders_supervision ON orders(status, deadline);
CREATE INDEX orders_qa ON orders(qa_status, number);
CREATE INDEX orders_closed ON orders(status, closed_at);

-- Daily KPI counters per dimension, kept equal to a recount by adding each event's delta
-- in the same transaction as the event.
CREATE TABLE kpi_rollup (
    dim     TEXT NOT NULL,
    day     TEXT NOT NULL,
    key     TEXT NOT NULL,
    counter TEXT NOT NULL,
    value   BIGINT NOT NULL,
    PRIMARY KEY (dim, day, key, counter)
);

CREATE TABLE notifications (
    id             TEXT PRIMARY KEY,
    number         TEXT NOT NULL,
    at             BIGINT NOT NULL,
    recipient_kind TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications(recipient_kind, recipient, at);

CREATE TABLE notification_reads (
    id       TEXT NOT NULL,
    username TEXT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (id, username)
);
