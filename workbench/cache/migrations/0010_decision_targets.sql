-- Decisions on exception messages (issue 13 §3): besides requisitions, a buyer decides on firm
-- purchase-order lines (reschedule in/out, reduce, cancel; written back through the outbox)
-- and a planner on work orders (recorded advice, not written back). target_kind says what
-- the decision is about: NULL or 'requisition' (every decision before this migration),
-- 'purchase_order_line' or 'work_order'; for the latter two the requisition column holds the
-- element's code (PO/line, or the work order's code). message_key: the exception message
-- decided on (kind|element), NULL for requisition decisions.

ALTER TABLE decisions ADD COLUMN target_kind TEXT;

ALTER TABLE decisions ADD COLUMN message_key TEXT;

CREATE INDEX ix_decisions_message ON decisions (message_key);
