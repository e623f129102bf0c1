-- A real city sets itself up (issue 8): deactivation, the routing catalogue, imported
-- history, and the record of every administrative change. Keep in step with the other
-- backend's 0004_city_setup.sql.

-- Nothing referenced is ever deleted: a deactivated node stays on its old orders.
ALTER TABLE jurisdictions ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE units ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE categories ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

-- The routing catalogue (派单目录): '' in jurisdiction means anywhere.
CREATE TABLE routes (
    category     TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    unit         TEXT NOT NULL REFERENCES units(code),
    PRIMARY KEY (category, jurisdiction)
);

-- An imported order keeps its id in the system it came from; re-importing it is a no-op.
-- orders.street and orders.caller_phone hold '' when an order has none.
ALTER TABLE orders ADD COLUMN source_ref TEXT;
CREATE UNIQUE INDEX orders_source_ref ON orders(source_ref) WHERE source_ref IS NOT NULL;

-- Who changed which reference row or account, when, and what it was before and after.
CREATE TABLE admin_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    kind   TEXT NOT NULL,
    code   TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after  TEXT
);
CREATE INDEX admin_changes_item ON admin_changes(kind, code, id);

-- Resolution is now solved / asked (callbacks that recorded whether it was solved). Every
-- callback so far recorded it, so asked equals rated.
INSERT INTO kpi_rollup (dim, day, key, counter, value)
    SELECT dim, day, key, 'asked', value FROM kpi_rollup WHERE counter = 'rated';
