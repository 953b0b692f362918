-- The Exceptions list reads what it shows from real columns (issue 13: the first page of the
-- large demo's 245,000 messages in well under a second, filters and limit in SQL) instead of
-- parsing every message's JSON payload; the payload stays (the evidence of one message).
-- Existing rows are filled from their payload here, so nothing waits for the next refresh.

ALTER TABLE exception_messages ADD COLUMN element_type TEXT;
ALTER TABLE exception_messages ADD COLUMN item_description TEXT;
ALTER TABLE exception_messages ADD COLUMN unit TEXT;
ALTER TABLE exception_messages ADD COLUMN site_name TEXT;
ALTER TABLE exception_messages ADD COLUMN supplier_name TEXT;
ALTER TABLE exception_messages ADD COLUMN planner TEXT;
ALTER TABLE exception_messages ADD COLUMN buyer TEXT;
ALTER TABLE exception_messages ADD COLUMN due_date TEXT;
ALTER TABLE exception_messages ADD COLUMN need_date TEXT;
ALTER TABLE exception_messages ADD COLUMN suggested_date TEXT;
ALTER TABLE exception_messages ADD COLUMN quantity FLOAT;
ALTER TABLE exception_messages ADD COLUMN suggested_quantity FLOAT;
ALTER TABLE exception_messages ADD COLUMN days FLOAT;
ALTER TABLE exception_messages ADD COLUMN reason TEXT;

UPDATE exception_messages SET
    element_type = json_extract(payload, '$.element_type'),
    item_description = json_extract(payload, '$.item_description'),
    unit = json_extract(payload, '$.unit'),
    site_name = json_extract(payload, '$.site_name'),
    supplier_name = json_extract(payload, '$.supplier_name'),
    planner = json_extract(payload, '$.planner'),
    buyer = json_extract(payload, '$.buyer'),
    due_date = json_extract(payload, '$.due_date'),
    need_date = json_extract(payload, '$.need_date'),
    suggested_date = json_extract(payload, '$.suggested_date'),
    quantity = json_extract(payload, '$.quantity'),
    suggested_quantity = json_extract(payload, '$.suggested_quantity'),
    days = json_extract(payload, '$.days'),
    reason = json_extract(payload, '$.reason')
WHERE payload IS NOT NULL AND json_valid(payload);

-- the list's order (oldest first, then code and element) among the unresolved ones
CREATE INDEX ix_exception_messages_list ON exception_messages (resolved_on, first_seen, code,
                                                              element);
