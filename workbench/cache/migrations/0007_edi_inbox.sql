-- Supplier EDI messages (connectors/edi, workbench/services/edi.py, workbench/cache/edi.py).
-- edi_messages: every message file that reached an inbox, one row per file (an interchange),
-- with the copy kept in the archive beside the cache and its outcome: applied, duplicate,
-- superseded or rejected, a rejection naming the message, segment number, element and what was
-- expected. A replay updates the row of the file it replays.
CREATE TABLE edi_messages (
	id INTEGER NOT NULL PRIMARY KEY,
	source TEXT NOT NULL,
	file TEXT NOT NULL,
	archive_path TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	received_at TEXT NOT NULL,
	standard TEXT,
	version TEXT,
	message_type TEXT,
	sender TEXT,
	supplier TEXT,
	control_ref TEXT,
	message_refs TEXT,
	document_number TEXT,
	document_time TEXT,
	lines INTEGER NOT NULL DEFAULT 0,
	applied_lines INTEGER NOT NULL DEFAULT 0,
	outcome TEXT NOT NULL,
	reason TEXT,
	message_ref TEXT,
	segment INTEGER,
	element TEXT,
	expected TEXT,
	duplicate_of INTEGER,
	processed_at TEXT NOT NULL,
	replays INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX ix_edi_messages_control ON edi_messages (sender, control_ref);
CREATE INDEX ix_edi_messages_sha ON edi_messages (sha256);
CREATE INDEX ix_edi_messages_outcome ON edi_messages (outcome);

-- The latest acknowledgement applied per PO line: what the supplier confirmed (quantity in the
-- item's stock unit, with the message's figure and unit), so a rejection or a changed quantity
-- is a confirmation mismatch the buyer sees (workbench.cache.edi.confirmation_mismatches).
CREATE TABLE edi_acknowledgements (
	purchase_order TEXT NOT NULL,
	line INTEGER NOT NULL,
	message INTEGER NOT NULL REFERENCES edi_messages (id),
	document_time TEXT NOT NULL,
	status TEXT NOT NULL,
	action_code TEXT,
	confirmed_quantity FLOAT,
	orig_quantity FLOAT,
	orig_uom TEXT,
	promised_date TEXT,
	ordered_quantity FLOAT,
	PRIMARY KEY (purchase_order, line)
);

-- Ship notices per PO line and shipment: what the supplier shipped (stock unit) and when it
-- is expected; the line's asn_quantity / asn_date are derived from the pending ones.
CREATE TABLE edi_shipments (
	purchase_order TEXT NOT NULL,
	line INTEGER NOT NULL,
	shipment TEXT NOT NULL,
	message INTEGER NOT NULL REFERENCES edi_messages (id),
	document_time TEXT NOT NULL,
	shipped_quantity FLOAT NOT NULL,
	orig_quantity FLOAT,
	orig_uom TEXT,
	ship_date TEXT,
	expected_date TEXT,
	PRIMARY KEY (purchase_order, line, shipment)
);
