-- History the cache records itself while syncing: every observed change of a PO line's promise
-- date or ordered quantity, and every BOM revision status change. "Observed at" is the sync's
-- clock (the connector's notion of now), written into sync_context by the sync service.

CREATE TABLE sync_context (
	key TEXT NOT NULL PRIMARY KEY,
	value TEXT
);

-- Trigger bodies cannot rely on INSERT OR IGNORE/REPLACE: the outer upsert's conflict policy
-- overrides theirs. So they delete/skip explicitly. A new line whose history the source already
-- delivered (promise_changes load before purchase_order_lines) adds no observation.
CREATE TRIGGER trg_pol_history_insert AFTER INSERT ON purchase_order_lines
BEGIN
	INSERT INTO promise_changes
		(purchase_order, line, changed_at, promised_date, quantity_ordered, origin, source,
		 source_key, sync_run)
	SELECT new.purchase_order, new.line, o.value, new.promised_date, new.quantity_ordered,
		'observed', new.source, '', new.sync_run
	FROM (SELECT coalesce((SELECT value FROM sync_context WHERE key = 'observed_at'),
	                      strftime('%Y-%m-%dT%H:%M:%S', 'now')) AS value) AS o
	WHERE NOT EXISTS (SELECT 1 FROM promise_changes p WHERE p.purchase_order = new.purchase_order
		AND p.line = new.line);
END;

CREATE TRIGGER trg_pol_history_update AFTER UPDATE OF promised_date, quantity_ordered
	ON purchase_order_lines
	WHEN old.promised_date IS NOT new.promised_date OR old.quantity_ordered IS NOT new.quantity_ordered
BEGIN
	DELETE FROM promise_changes WHERE purchase_order = new.purchase_order AND line = new.line
		AND changed_at = coalesce((SELECT value FROM sync_context WHERE key = 'observed_at'),
		                          strftime('%Y-%m-%dT%H:%M:%S', 'now'));
	INSERT INTO promise_changes
		(purchase_order, line, changed_at, promised_date, quantity_ordered, origin, source,
		 source_key, sync_run)
	VALUES (
		new.purchase_order, new.line,
		coalesce((SELECT value FROM sync_context WHERE key = 'observed_at'),
		         strftime('%Y-%m-%dT%H:%M:%S', 'now')),
		new.promised_date, new.quantity_ordered, 'observed', new.source, '', new.sync_run);
END;

CREATE TRIGGER trg_bom_rev_history_insert AFTER INSERT ON bom_revisions
BEGIN
	INSERT INTO bom_revision_history (parent, revision, old_status, new_status, observed_at)
	VALUES (new.parent, new.revision, NULL, new.status,
		coalesce((SELECT value FROM sync_context WHERE key = 'observed_at'),
		         strftime('%Y-%m-%dT%H:%M:%S', 'now')));
END;

CREATE TRIGGER trg_bom_rev_history_update AFTER UPDATE OF status ON bom_revisions
	WHEN old.status IS NOT new.status
BEGIN
	INSERT INTO bom_revision_history (parent, revision, old_status, new_status, observed_at)
	VALUES (new.parent, new.revision, old.status, new.status,
		coalesce((SELECT value FROM sync_context WHERE key = 'observed_at'),
		         strftime('%Y-%m-%dT%H:%M:%S', 'now')));
END;
