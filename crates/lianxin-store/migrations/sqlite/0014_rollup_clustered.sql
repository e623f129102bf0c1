-- The rollups clustered by their key (issue 12): a WITHOUT ROWID table stores each cell once,
-- in primary-key order, so a period of one dimension is one contiguous range read from the
-- table itself (a rowid table kept the key twice, in its index and in the table, and looked
-- every row up from the index). Keep in step with the other backend's 0014.
CREATE TABLE kpi_rollup_clustered (
    dim     TEXT NOT NULL,
    day     TEXT NOT NULL,
    key     TEXT NOT NULL,
    counter TEXT NOT NULL,
    value   BIGINT NOT NULL,
    PRIMARY KEY (dim, day, key, counter)
) WITHOUT ROWID;
INSERT INTO kpi_rollup_clustered (dim, day, key, counter, value)
    SELECT dim, day, key, counter, value FROM kpi_rollup ORDER BY dim, day, key, counter;
DROP TABLE kpi_rollup;
ALTER TABLE kpi_rollup_clustered RENAME TO kpi_rollup;
