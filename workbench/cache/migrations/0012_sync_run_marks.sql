-- What a sync run added, as opposed to changed (workbench/cache/sync_changes.py): before a run
-- writes an entity, the largest rowid of that entity's table is kept here. The upsert (INSERT …
-- ON CONFLICT DO UPDATE) keeps the rowid of a row it updates and gives a new row a larger one,
-- so a row the run wrote (sync_run = run) is new when its rowid is above the mark, and changed
-- otherwise; a row the run marked deleted has deleted_at set and sync_run = run.
CREATE TABLE sync_run_marks (
	sync_run INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
	entity TEXT NOT NULL,
	max_rowid INTEGER NOT NULL,
	PRIMARY KEY (sync_run, entity)
);
