-- Exception messages that live across plans and syncs (issue 13): one row per identity
-- (message_key = kind|element). first_seen/last_seen/resolved_on are planning days (the
-- cache's as-of day, so a demo a week later ages its messages by a week); the *_at columns are
-- wall-clock UTC times. resolved_on IS NULL: open. A user may acknowledge or snooze a message
-- (until a date); payload is the latest message as JSON.

CREATE TABLE exception_messages (
	id INTEGER NOT NULL,
	message_key TEXT NOT NULL,
	kind TEXT NOT NULL,
	code TEXT NOT NULL,
	element TEXT NOT NULL,
	item TEXT,
	site TEXT,
	supplier TEXT,
	role TEXT,
	severity TEXT,
	payload TEXT,
	first_seen TEXT NOT NULL,
	first_seen_at TEXT NOT NULL,
	last_seen TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	resolved_on TEXT,
	resolved_at TEXT,
	acknowledged_by TEXT,
	acknowledged_at TEXT,
	snoozed_until TEXT,
	snoozed_by TEXT,
	PRIMARY KEY (id),
	UNIQUE (message_key)
);

CREATE INDEX ix_exception_messages_open ON exception_messages (resolved_on, kind);
