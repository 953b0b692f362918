-- The entity stamp of 0004 drew a new random stamp with a trigger on *every* row written,
-- which on the large demo slowed a full sync from 131 s to 220 s. Any per-row trigger on an
-- insert costs SQLite 5-10 us a row (measured with a trigger that never runs its body), so:
-- * inserts are stamped by their writer, once per statement: the sync's upsert (the only code
--   that inserts entity rows; package import and the demo go through it) draws a new stamp
--   after every batch that wrote rows (workbench/services/sync.py);
-- * updates and deletes keep a trigger (hand edits, deletion marks, incremental upserts of the
--   rows that changed), which draws a new stamp only at the first row written after the stamp
--   was *observed* (read to snapshot the planning frames, which sets observed = 1); later rows
--   only read the flag.
-- Equal stamps still mean equal entity tables since the stamp was observed, except for rows
-- inserted by hand outside the application (delete the .frames file after such an edit).
-- Existing stamps count as observed (a snapshot may have been made from them).

ALTER TABLE entity_stamp ADD COLUMN observed INTEGER NOT NULL DEFAULT 1;

UPDATE entity_stamp SET observed = 1;

DROP TRIGGER trg_uoms_stamp_ins;

DROP TRIGGER trg_uoms_stamp_upd;
CREATE TRIGGER trg_uoms_stamp_upd AFTER UPDATE ON uoms
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_uoms_stamp_del;
CREATE TRIGGER trg_uoms_stamp_del AFTER DELETE ON uoms
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_sites_stamp_ins;

DROP TRIGGER trg_sites_stamp_upd;
CREATE TRIGGER trg_sites_stamp_upd AFTER UPDATE ON sites
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_sites_stamp_del;
CREATE TRIGGER trg_sites_stamp_del AFTER DELETE ON sites
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_locations_stamp_ins;

DROP TRIGGER trg_locations_stamp_upd;
CREATE TRIGGER trg_locations_stamp_upd AFTER UPDATE ON locations
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_locations_stamp_del;
CREATE TRIGGER trg_locations_stamp_del AFTER DELETE ON locations
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_suppliers_stamp_ins;

DROP TRIGGER trg_suppliers_stamp_upd;
CREATE TRIGGER trg_suppliers_stamp_upd AFTER UPDATE ON suppliers
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_suppliers_stamp_del;
CREATE TRIGGER trg_suppliers_stamp_del AFTER DELETE ON suppliers
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_items_stamp_ins;

DROP TRIGGER trg_items_stamp_upd;
CREATE TRIGGER trg_items_stamp_upd AFTER UPDATE ON items
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_items_stamp_del;
CREATE TRIGGER trg_items_stamp_del AFTER DELETE ON items
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_uom_conversions_stamp_ins;

DROP TRIGGER trg_uom_conversions_stamp_upd;
CREATE TRIGGER trg_uom_conversions_stamp_upd AFTER UPDATE ON uom_conversions
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_uom_conversions_stamp_del;
CREATE TRIGGER trg_uom_conversions_stamp_del AFTER DELETE ON uom_conversions
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_item_xrefs_stamp_ins;

DROP TRIGGER trg_item_xrefs_stamp_upd;
CREATE TRIGGER trg_item_xrefs_stamp_upd AFTER UPDATE ON item_xrefs
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_item_xrefs_stamp_del;
CREATE TRIGGER trg_item_xrefs_stamp_del AFTER DELETE ON item_xrefs
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_bom_revisions_stamp_ins;

DROP TRIGGER trg_bom_revisions_stamp_upd;
CREATE TRIGGER trg_bom_revisions_stamp_upd AFTER UPDATE ON bom_revisions
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_bom_revisions_stamp_del;
CREATE TRIGGER trg_bom_revisions_stamp_del AFTER DELETE ON bom_revisions
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_bom_lines_stamp_ins;

DROP TRIGGER trg_bom_lines_stamp_upd;
CREATE TRIGGER trg_bom_lines_stamp_upd AFTER UPDATE ON bom_lines
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_bom_lines_stamp_del;
CREATE TRIGGER trg_bom_lines_stamp_del AFTER DELETE ON bom_lines
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_inventory_stamp_ins;

DROP TRIGGER trg_inventory_stamp_upd;
CREATE TRIGGER trg_inventory_stamp_upd AFTER UPDATE ON inventory
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_inventory_stamp_del;
CREATE TRIGGER trg_inventory_stamp_del AFTER DELETE ON inventory
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_demands_stamp_ins;

DROP TRIGGER trg_demands_stamp_upd;
CREATE TRIGGER trg_demands_stamp_upd AFTER UPDATE ON demands
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_demands_stamp_del;
CREATE TRIGGER trg_demands_stamp_del AFTER DELETE ON demands
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_work_orders_stamp_ins;

DROP TRIGGER trg_work_orders_stamp_upd;
CREATE TRIGGER trg_work_orders_stamp_upd AFTER UPDATE ON work_orders
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_work_orders_stamp_del;
CREATE TRIGGER trg_work_orders_stamp_del AFTER DELETE ON work_orders
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_work_order_components_stamp_ins;

DROP TRIGGER trg_work_order_components_stamp_upd;
CREATE TRIGGER trg_work_order_components_stamp_upd AFTER UPDATE ON work_order_components
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_work_order_components_stamp_del;
CREATE TRIGGER trg_work_order_components_stamp_del AFTER DELETE ON work_order_components
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_purchase_orders_stamp_ins;

DROP TRIGGER trg_purchase_orders_stamp_upd;
CREATE TRIGGER trg_purchase_orders_stamp_upd AFTER UPDATE ON purchase_orders
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_purchase_orders_stamp_del;
CREATE TRIGGER trg_purchase_orders_stamp_del AFTER DELETE ON purchase_orders
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_promise_changes_stamp_ins;

DROP TRIGGER trg_promise_changes_stamp_upd;
CREATE TRIGGER trg_promise_changes_stamp_upd AFTER UPDATE ON promise_changes
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_promise_changes_stamp_del;
CREATE TRIGGER trg_promise_changes_stamp_del AFTER DELETE ON promise_changes
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_purchase_order_lines_stamp_ins;

DROP TRIGGER trg_purchase_order_lines_stamp_upd;
CREATE TRIGGER trg_purchase_order_lines_stamp_upd AFTER UPDATE ON purchase_order_lines
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_purchase_order_lines_stamp_del;
CREATE TRIGGER trg_purchase_order_lines_stamp_del AFTER DELETE ON purchase_order_lines
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_requisitions_stamp_ins;

DROP TRIGGER trg_requisitions_stamp_upd;
CREATE TRIGGER trg_requisitions_stamp_upd AFTER UPDATE ON requisitions
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;

DROP TRIGGER trg_requisitions_stamp_del;
CREATE TRIGGER trg_requisitions_stamp_del AFTER DELETE ON requisitions
WHEN (SELECT observed FROM entity_stamp WHERE id = 1)
BEGIN
	UPDATE entity_stamp SET stamp = random(), observed = 0 WHERE id = 1;
END;
