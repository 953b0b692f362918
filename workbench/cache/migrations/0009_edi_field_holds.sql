-- Fields of a PO line that a supplier's EDI message set, held against a later sync of the line's
-- own source (workbench/cache/holds.py; the rule: docs/edi.md, "A message's values and the next
-- sync of the line's source"). One row per (PO line, column of purchase_order_lines): the value
-- the column had before the first message set it (the source's value; kept when later messages
-- set the column again) and the value the latest message set. A sync that still sends the
-- source's value keeps the message's value; one that sends another value wins and ends the hold.
-- Values keep their SQLite type (no declared type): ISO text for dates, REAL for quantities.
CREATE TABLE edi_field_holds (
	purchase_order TEXT NOT NULL,
	line INTEGER NOT NULL,
	field TEXT NOT NULL,
	source_value,
	edi_value,
	message INTEGER NOT NULL REFERENCES edi_messages (id),
	held_at TEXT NOT NULL,
	PRIMARY KEY (purchase_order, line, field)
);
