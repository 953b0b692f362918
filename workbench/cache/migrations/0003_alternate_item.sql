-- Requisition re-evaluation may advise switching a requisition to an alternate component (another
-- line of the same alternate group of the parents' BOM revision). The recommendation names that
-- item, and so do a buyer's decision on it and the write-back it queues. NULL: the requisition's
-- own item (every other advice).

ALTER TABLE recommendations ADD COLUMN proposed_item TEXT;

ALTER TABLE decisions ADD COLUMN item TEXT;
