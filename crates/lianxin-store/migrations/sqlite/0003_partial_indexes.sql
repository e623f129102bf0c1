-- Indexes that only supervision and QA read are limited to the rows they read, so that
-- registering an order (the hottest write) maintains fewer b-trees.
DROP INDEX orders_supervision;
DROP INDEX orders_qa;
DROP INDEX orders_closed;
CREATE INDEX orders_supervision ON orders(deadline) WHERE status IN ('dispatched', 'in_progress');
CREATE INDEX orders_qa ON orders(qa_status, number) WHERE qa_status IS NOT NULL;
CREATE INDEX orders_closed ON orders(closed_at) WHERE status = 'closed';
