-- Contacts (issue 10): the repeat-contact rate is now `repeat / contacts`, where contacts are
-- registered orders plus later calls added to an open order. Until now every contact was a
-- registration, so the new counter starts equal to `registered` in every rollup cell.
-- Keep in step with the other backend's 0007_contacts.sql.
INSERT INTO kpi_rollup (dim, day, key, counter, value)
SELECT dim, day, key, 'contacts', value FROM kpi_rollup WHERE counter = 'registered';
