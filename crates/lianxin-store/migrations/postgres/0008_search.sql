-- Search (issue 11). The search index follows the database's own order of changes: every
-- write of an order row takes the next numbers of `change_head` (a single row, so
-- concurrent writers on PostgreSQL take them in commit order) into `orders.change_seq`.
-- An index that has applied every change up to N reads `change_seq > N` to catch up.
-- Orders written before this migration keep 0: an index is built from all rows first.
-- Keep in step with the other backend's 0008_search.sql.
ALTER TABLE orders ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_change_seq ON orders(change_seq);
CREATE TABLE change_head (
    id   BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO change_head (id, last) VALUES (1, 0);

-- Which database an index was built from (a copy keeps it, with its change numbers).
INSERT INTO meta (key, value) SELECT 'instance_id', md5(random()::text || clock_timestamp()::text)
WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'instance_id');

-- The city's own dictionary words and synonym groups, added by admins.
CREATE TABLE search_words (
    word       TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE search_synonyms (
    word       TEXT PRIMARY KEY,
    grp        TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX search_synonyms_grp ON search_synonyms(grp);
