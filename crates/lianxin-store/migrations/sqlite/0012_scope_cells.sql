-- Per-unit KPI cells (kpi_rollup dims `scope:UNIT`, `scope_category:UNIT`, …) are counted
-- under the unit tree of `units.version`: every transaction that changes rollups reads this
-- row, and a change of the unit tree bumps it (see lianxin-store/src/anchors.rs).
-- A database opened without `rollup.scope` in meta has its per-unit cells counted then
-- (Store::ensure_scope_cells).
INSERT INTO meta (key, value) VALUES ('units.version', '0') ON CONFLICT (key) DO NOTHING;
-- The rollups' layout 2 (request types, hours, category × hour, open and overdue gauges, the
-- per-unit cells): an empty database is counted under it; one with orders is recounted in
-- full when next opened.
INSERT INTO meta (key, value)
SELECT 'rollup.layout', '2'
WHERE NOT EXISTS (SELECT 1 FROM orders);
