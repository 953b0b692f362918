-- Initial cache schema (frozen: add a new migration file to change it).

CREATE TABLE audit_events (
	id INTEGER NOT NULL, 
	at TEXT NOT NULL, 
	actor TEXT NOT NULL, 
	action TEXT NOT NULL, 
	target TEXT, 
	outbox INTEGER, 
	result TEXT, 
	detail TEXT, 
	PRIMARY KEY (id)
);

CREATE TABLE bom_lines (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	parent TEXT NOT NULL, 
	revision TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	component TEXT, 
	quantity_per FLOAT, 
	scrap_pct FLOAT, 
	alternate_group TEXT, 
	alternate_priority INTEGER, 
	orig_uom TEXT, 
	orig_quantity_per FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (parent, revision, position)
);

CREATE INDEX ix_bom_lines_component ON bom_lines (component);

CREATE TABLE bom_revision_history (
	id INTEGER NOT NULL, 
	parent TEXT NOT NULL, 
	revision TEXT NOT NULL, 
	old_status TEXT, 
	new_status TEXT, 
	observed_at TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE bom_revisions (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	parent TEXT NOT NULL, 
	revision TEXT NOT NULL, 
	status TEXT, 
	effective_from TEXT, 
	effective_to TEXT, 
	description TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (parent, revision)
);

CREATE TABLE demands (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	kind TEXT, 
	item TEXT, 
	site TEXT, 
	quantity FLOAT, 
	due_date TEXT, 
	status TEXT, 
	customer TEXT, 
	priority INTEGER, 
	orig_uom TEXT, 
	orig_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE INDEX ix_demands_item ON demands (item);

CREATE TABLE inventory (
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
	orig_uom TEXT, 
	orig_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (item, site, location, lot, status)
);

CREATE INDEX ix_inventory_site_item ON inventory (site, item);

CREATE TABLE item_xrefs (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	item TEXT NOT NULL, 
	system TEXT NOT NULL, 
	external_code TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (item, system)
);

CREATE TABLE items (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	description TEXT, 
	stock_uom TEXT, 
	make_buy TEXT, 
	lead_time_days INTEGER, 
	safety_stock FLOAT, 
	min_order_qty FLOAT, 
	order_multiple FLOAT, 
	standard_cost FLOAT, 
	planner TEXT, 
	buyer TEXT, 
	default_supplier TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE locations (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	site TEXT, 
	name TEXT, 
	kind TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE promise_changes (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	purchase_order TEXT NOT NULL, 
	line INTEGER NOT NULL, 
	changed_at TEXT NOT NULL, 
	promised_date TEXT, 
	quantity_ordered FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	origin TEXT DEFAULT 'source', 
	PRIMARY KEY (purchase_order, line, changed_at)
);

CREATE TABLE purchase_order_lines (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	purchase_order TEXT NOT NULL, 
	line INTEGER NOT NULL, 
	item TEXT, 
	supplier TEXT, 
	site TEXT, 
	quantity_ordered FLOAT, 
	quantity_received FLOAT, 
	unit_price FLOAT, 
	requested_date TEXT, 
	promised_date TEXT, 
	ack_status TEXT, 
	ack_date TEXT, 
	asn_quantity FLOAT, 
	asn_date TEXT, 
	received_date TEXT, 
	status TEXT, 
	requisition TEXT, 
	orig_uom TEXT, 
	orig_quantity_ordered FLOAT, 
	orig_quantity_received FLOAT, 
	orig_asn_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (purchase_order, line)
);

CREATE INDEX ix_pol_item ON purchase_order_lines (item);

CREATE TABLE purchase_orders (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	supplier TEXT, 
	site TEXT, 
	status TEXT, 
	order_date TEXT, 
	buyer TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE recommendations (
	id INTEGER NOT NULL, 
	run_at TEXT NOT NULL, 
	requisition TEXT NOT NULL, 
	action TEXT NOT NULL, 
	proposed_quantity FLOAT, 
	proposed_date TEXT, 
	proposed_supplier TEXT, 
	reason TEXT, 
	evidence TEXT, 
	base_version TEXT, 
	status TEXT DEFAULT 'open' NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_recommendations_req ON recommendations (requisition);

CREATE TABLE requisitions (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	item TEXT, 
	site TEXT, 
	quantity FLOAT, 
	need_date TEXT, 
	suggested_supplier TEXT, 
	origin TEXT, 
	status TEXT, 
	buyer TEXT, 
	created_date TEXT, 
	orig_uom TEXT, 
	orig_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE INDEX ix_req_item ON requisitions (item);

CREATE TABLE sites (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	name TEXT, 
	timezone TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE suppliers (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	name TEXT, 
	lead_time_days INTEGER, 
	currency TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE sync_runs (
	id INTEGER NOT NULL, 
	connector TEXT NOT NULL, 
	started_at TEXT NOT NULL, 
	finished_at TEXT, 
	status TEXT NOT NULL, 
	counts TEXT, 
	rejected INTEGER DEFAULT '0' NOT NULL, 
	duration_s FLOAT, 
	watermarks TEXT, 
	error TEXT, 
	PRIMARY KEY (id)
);

CREATE TABLE uom_conversions (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	item TEXT, 
	from_uom TEXT NOT NULL, 
	to_uom TEXT NOT NULL, 
	factor FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (item, from_uom, to_uom)
);

CREATE TABLE uoms (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	name TEXT, 
	category TEXT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE watermarks (
	connector TEXT NOT NULL, 
	entity TEXT NOT NULL, 
	watermark TEXT, 
	updated_at TEXT, 
	PRIMARY KEY (connector, entity)
);

CREATE TABLE work_order_components (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	work_order TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	component TEXT, 
	required_quantity FLOAT, 
	issued_quantity FLOAT, 
	required_date TEXT, 
	orig_uom TEXT, 
	orig_required_quantity FLOAT, 
	orig_issued_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (work_order, position)
);

CREATE INDEX ix_woc_component ON work_order_components (component);

CREATE TABLE work_orders (
	source TEXT, 
	source_key TEXT, 
	source_version TEXT, 
	code TEXT NOT NULL, 
	item TEXT, 
	site TEXT, 
	quantity FLOAT, 
	completed_quantity FLOAT, 
	start_date TEXT, 
	due_date TEXT, 
	status TEXT, 
	bom_revision TEXT, 
	demand TEXT, 
	orig_uom TEXT, 
	orig_quantity FLOAT, 
	orig_completed_quantity FLOAT, 
	deleted_at TEXT, 
	sync_run INTEGER, 
	PRIMARY KEY (code)
);

CREATE TABLE decisions (
	id INTEGER NOT NULL, 
	recommendation INTEGER, 
	requisition TEXT NOT NULL, 
	verdict TEXT NOT NULL, 
	action TEXT NOT NULL, 
	quantity FLOAT, 
	date TEXT, 
	supplier TEXT, 
	comment TEXT, 
	decided_by TEXT, 
	decided_at TEXT NOT NULL, 
	base_version TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(recommendation) REFERENCES recommendations (id)
);

CREATE TABLE sync_rejections (
	id INTEGER NOT NULL, 
	sync_run INTEGER NOT NULL, 
	entity TEXT NOT NULL, 
	"key" TEXT, 
	field TEXT, 
	reason TEXT, 
	file TEXT, 
	"row" INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(sync_run) REFERENCES sync_runs (id) ON DELETE CASCADE
);

CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	decision INTEGER NOT NULL, 
	connector TEXT NOT NULL, 
	idempotency_key TEXT NOT NULL, 
	payload TEXT NOT NULL, 
	state TEXT NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	next_attempt_at TEXT, 
	last_error TEXT, 
	result_version TEXT, 
	"conflict" TEXT, 
	created_at TEXT NOT NULL, 
	updated_at TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(decision) REFERENCES decisions (id), 
	UNIQUE (idempotency_key)
);

CREATE INDEX ix_outbox_state ON outbox (state);
