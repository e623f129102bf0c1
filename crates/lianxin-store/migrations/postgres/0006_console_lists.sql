-- The console's lists (issue 10): every queue is paged in the store, in its own work
-- order, with a true total. Three facts of the order's JSON become columns so that the
-- queues can filter and sort on them: the caller's address (the order search), when the
-- current reply was given (the callback queue, oldest reply first) and when the pending
-- extension was requested (NULL when none: the extension requests). Kept up to date by
-- the writer (`writer::update`) and `orders::insert_order_rows`. Keep in step with the
-- other backend's 0006_console_lists.sql.
ALTER TABLE orders ADD COLUMN address TEXT;
ALTER TABLE orders ADD COLUMN replied_at BIGINT;
ALTER TABLE orders ADD COLUMN extension_at BIGINT;
UPDATE orders SET
    address = NULLIF(TRIM(j #>> '{location,address}'), ''),
    replied_at = (j #>> '{reply,at}')::BIGINT,
    extension_at = (j #>> '{pending_extension,requested_at}')::BIGINT
FROM (SELECT number AS n, data::jsonb AS j FROM orders) AS parsed
WHERE orders.number = parsed.n
  AND (j #>> '{location,address}' IS NOT NULL
       OR j #>> '{reply,at}' IS NOT NULL
       OR j #>> '{pending_extension,requested_at}' IS NOT NULL);
-- A substring search scans this narrow index, not the rows with their JSON.
CREATE INDEX orders_address ON orders(address, number) WHERE address IS NOT NULL;
CREATE INDEX orders_replied ON orders(replied_at, number) WHERE status = 'replied';
CREATE INDEX orders_extension ON orders(extension_at, number) WHERE extension_at IS NOT NULL;
