-- Several buyers at once (issue 17 §2), PostgreSQL. Its SQLite twin is
-- ../0015_team_decisions.sql (the same tables and columns).
--
-- decision_versions: one row per decided target (target_kind 'requisition' for requisitions,
-- 'purchase_order_line', 'work_order'; target the requisition's code or the element's code),
-- its version counted up by every decision stored on it and the decision that made it. A
-- decision given with the version its buyer saw is stored only while the version is still that
-- one, checked inside the writing transaction (workbench.cache.decisions.take_version): the
-- second of two buyers gets a conflict naming the first decision, never a lost update.
--
-- decisions / audit_events: who did it, beside decided_by / actor (the configured name): the
-- workstation's OS login and the database role (current_user on PostgreSQL; the OS login on
-- SQLite, which has no roles).
--
-- outbox claims: the worker draining the outbox takes an entry by writing its id into
-- claimed_by with claimed_at and lease_until; another worker leaves a claimed entry alone until
-- the lease expires (or, on the same host, until the claiming process is gone), so an entry is
-- sent by one worker at a time across the team (workbench.cache.outbox).

CREATE TABLE decision_versions (
	target_kind text NOT NULL,
	target text NOT NULL,
	version bigint DEFAULT 0 NOT NULL,
	decision bigint,
	PRIMARY KEY (target_kind, target),
	FOREIGN KEY(decision) REFERENCES decisions (id)
);

ALTER TABLE decisions ADD COLUMN workstation_user text;

ALTER TABLE decisions ADD COLUMN db_role text;

ALTER TABLE audit_events ADD COLUMN workstation_user text;

ALTER TABLE audit_events ADD COLUMN db_role text;

ALTER TABLE outbox ADD COLUMN claimed_by text;

ALTER TABLE outbox ADD COLUMN claimed_at text;

ALTER TABLE outbox ADD COLUMN lease_until text;
