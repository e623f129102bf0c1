-- Hotspot cells (kpi_rollup dims category_street and category_district) are kept with every
-- change from now on. A database without orders has nothing to count: it is marked as
-- counted. One with orders is counted once when it is next opened (Store::backfill_place_cells).
INSERT INTO meta (key, value)
SELECT 'rollup.category_place', '1'
WHERE NOT EXISTS (SELECT 1 FROM orders);
