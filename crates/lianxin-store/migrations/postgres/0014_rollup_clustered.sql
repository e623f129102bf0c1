-- The rollups read from their index alone (issue 12): the primary key carries the value
-- (INCLUDE), so a period of one dimension is an index-only range scan once the pages are
-- all-visible. Keep in step with the other backend's 0014 (there a WITHOUT ROWID table).
ALTER TABLE kpi_rollup DROP CONSTRAINT kpi_rollup_pkey;
ALTER TABLE kpi_rollup ADD PRIMARY KEY (dim, day, key, counter) INCLUDE (value);
