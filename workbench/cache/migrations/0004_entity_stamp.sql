-- The stamp of the entity tables' content: a random 64-bit number drawn again by a trigger on
-- every insert, update or delete of any entity table row, inside the writing transaction. Equal
-- stamps mean equal entity tables, whoever wrote them (sync upserts and deletion marks, the
-- promise history triggers, a later migration, a hand edit). The planning frame snapshot beside
-- the cache (workbench/cache/snapshot.py) is only loaded while its stamp equals this one.
-- A random draw rather than a counter: two copies of one cache changed apart never meet the
-- same stamp again. One row (id 1), created here with a fresh draw.

CREATE TABLE entity_stamp (
	id INTEGER NOT NULL PRIMARY KEY,
	stamp INTEGER NOT NULL
);

INSERT INTO entity_stamp (id, stamp) VALUES (1, random());

CREATE TRIGGER trg_uoms_stamp_ins AFTER INSERT ON uoms
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_uoms_stamp_upd AFTER UPDATE ON uoms
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_uoms_stamp_del AFTER DELETE ON uoms
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_sites_stamp_ins AFTER INSERT ON sites
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_sites_stamp_upd AFTER UPDATE ON sites
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_sites_stamp_del AFTER DELETE ON sites
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_locations_stamp_ins AFTER INSERT ON locations
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_locations_stamp_upd AFTER UPDATE ON locations
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_locations_stamp_del AFTER DELETE ON locations
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_suppliers_stamp_ins AFTER INSERT ON suppliers
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_suppliers_stamp_upd AFTER UPDATE ON suppliers
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_suppliers_stamp_del AFTER DELETE ON suppliers
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_items_stamp_ins AFTER INSERT ON items
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_items_stamp_upd AFTER UPDATE ON items
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_items_stamp_del AFTER DELETE ON items
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_uom_conversions_stamp_ins AFTER INSERT ON uom_conversions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_uom_conversions_stamp_upd AFTER UPDATE ON uom_conversions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_uom_conversions_stamp_del AFTER DELETE ON uom_conversions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_item_xrefs_stamp_ins AFTER INSERT ON item_xrefs
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_item_xrefs_stamp_upd AFTER UPDATE ON item_xrefs
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_item_xrefs_stamp_del AFTER DELETE ON item_xrefs
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_bom_revisions_stamp_ins AFTER INSERT ON bom_revisions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_bom_revisions_stamp_upd AFTER UPDATE ON bom_revisions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_bom_revisions_stamp_del AFTER DELETE ON bom_revisions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_bom_lines_stamp_ins AFTER INSERT ON bom_lines
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_bom_lines_stamp_upd AFTER UPDATE ON bom_lines
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_bom_lines_stamp_del AFTER DELETE ON bom_lines
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_inventory_stamp_ins AFTER INSERT ON inventory
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_inventory_stamp_upd AFTER UPDATE ON inventory
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_inventory_stamp_del AFTER DELETE ON inventory
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_demands_stamp_ins AFTER INSERT ON demands
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_demands_stamp_upd AFTER UPDATE ON demands
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_demands_stamp_del AFTER DELETE ON demands
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_work_orders_stamp_ins AFTER INSERT ON work_orders
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_work_orders_stamp_upd AFTER UPDATE ON work_orders
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_work_orders_stamp_del AFTER DELETE ON work_orders
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_work_order_components_stamp_ins AFTER INSERT ON work_order_components
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_work_order_components_stamp_upd AFTER UPDATE ON work_order_components
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_work_order_components_stamp_del AFTER DELETE ON work_order_components
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_purchase_orders_stamp_ins AFTER INSERT ON purchase_orders
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_purchase_orders_stamp_upd AFTER UPDATE ON purchase_orders
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_purchase_orders_stamp_del AFTER DELETE ON purchase_orders
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_promise_changes_stamp_ins AFTER INSERT ON promise_changes
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_promise_changes_stamp_upd AFTER UPDATE ON promise_changes
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_promise_changes_stamp_del AFTER DELETE ON promise_changes
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_purchase_order_lines_stamp_ins AFTER INSERT ON purchase_order_lines
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_purchase_order_lines_stamp_upd AFTER UPDATE ON purchase_order_lines
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_purchase_order_lines_stamp_del AFTER DELETE ON purchase_order_lines
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_requisitions_stamp_ins AFTER INSERT ON requisitions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_requisitions_stamp_upd AFTER UPDATE ON requisitions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;

CREATE TRIGGER trg_requisitions_stamp_del AFTER DELETE ON requisitions
BEGIN
	UPDATE entity_stamp SET stamp = random() WHERE id = 1;
END;
