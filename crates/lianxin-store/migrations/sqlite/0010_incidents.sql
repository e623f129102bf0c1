-- Incidents (issue 11): many orders about one event, answered once. An order belongs to at
-- most one incident; each keeps its own events and deadline.
-- Keep in step with the other backend's 0010_incidents.sql.
CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    category     TEXT NOT NULL REFERENCES categories(code),
    district     TEXT REFERENCES jurisdictions(code),
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    confirmed_by TEXT,
    replied_at   BIGINT
);
CREATE INDEX incidents_status ON incidents(status, created_at);
CREATE TABLE incident_orders (
    number      TEXT PRIMARY KEY REFERENCES orders(number),
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    added_at    BIGINT NOT NULL,
    added_by    TEXT NOT NULL
);
CREATE INDEX incident_orders_incident ON incident_orders(incident_id);
