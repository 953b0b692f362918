-- Allocated (reserved) stock says what it is reserved for: inventory.allocated_to names the work
-- order or demand (empty when the source does not say), and joins the key, so stock of one
-- place and lot reserved for two orders is two rows. SQLite cannot change a primary key in
-- place: the table is rebuilt with the same columns plus allocated_to (existing rows: ''),
-- then its index and the stamp triggers of 0005 are made again. The rebuild draws a new entity
-- stamp, so no planning frame snapshot of the old table is used again.

CREATE TABLE inventory_0006 (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	item TEXT NOT NULL, 
	site TEXT NOT NULL, 
	location TEXT, 
	lot TEXT, 
	status TEXT, 
	quantity FLOAT, 
	as_of TEXT, 
	expected_date TEXT, 
	allocated_to TEXT, 
	orig_uom TEXT, 
	orig_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (item, site, location, lot, status, allocated_to)
);

INSERT INTO inventory_0006 (source, source_key, source_version, item, site, location, lot, status,
	quantity, as_of, expected_date, allocated_to, orig_uom, orig_quantity, deleted_at, sync_run)
SELECT source, source_key, source_version, item, site, location, lot, status,
	quantity, as_of, expected_date, '', orig_uom, orig_quantity, deleted_at, sync_run
FROM inventory;

DROP TABLE inventory;

ALTER TABLE inventory_0006 RENAME TO inventory;

CREATE INDEX ix_inventory_site_item ON inventory (site, item);

CREATE TRIGGER trg_inventory_stamp_upd AFTER UPDATE ON inventory
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

CREATE TRIGGER trg_inventory_stamp_del AFTER DELETE ON inventory
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
