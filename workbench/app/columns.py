"""Column definitions of the tables the jobs fill (shared by the panels and the worker
processes; light to import), and what every column of every table means.

A column header's tooltip says what the column holds in the planner's words (:func:`describe`):
the column's own ``tip`` when its spec has one, else :data:`COLUMN_DESCRIPTIONS` by the column's
name, where a name that means different things in different tables (``kind``, ``ref``, ``id``,
...) is told apart by its title (:data:`TITLED_DESCRIPTIONS`). A panel adding a column with a new
name adds its description here: tests/ui/test_desktop_habits.py walks every table of every panel
and fails on a header without one.
"""

from __future__ import annotations

from workbench.app.tables import Col

#: column name -> what it holds (the default description of a column of that name)
COLUMN_DESCRIPTIONS: dict[str, str] = {
    # items and BOMs
    "code": "The item's code in the source system",
    "description": "The item's description from the item master",
    "make_buy": "Whether the item is made here (make) or purchased (buy)",
    "stock_uom": "The unit the item is stocked and planned in",
    "lead_time_days": "Days from ordering (or starting production) to receipt",
    "safety_stock": "Stock kept in reserve; planning treats falling below it as a shortage",
    "standard_cost": "Standard cost of one stock unit",
    "planner": "The planner responsible for the item",
    "buyer": "The buyer responsible for purchasing the item",
    "default_supplier": "The supplier the item is normally bought from",
    "component": "The component item of the BOM line",
    "change": "How the BOM line differs between the two revisions (added, removed, changed)",
    "before_quantity_per": "Quantity per assembly in the earlier revision",
    "after_quantity_per": "Quantity per assembly in the later revision",
    "changed": "Which fields of the BOM line changed",
    "before_scrap_pct": "Scrap allowance (%) in the earlier revision",
    "after_scrap_pct": "Scrap allowance (%) in the later revision",
    "min_level": "How many BOM levels above the item the assembly is (1 = direct parent)",
    "extended_quantity": "Quantity of the item needed for one of this assembly, over all levels",
    "top": "Whether the assembly is a top-level (sold) item",
    "bom_revision": "The BOM revision the work order is built to",
    "after_change": "What the work order or planned order needs once the change applies",
    # shortages and pegging
    "first_shortage_date": "The first day projected available falls below zero (or below "
                           "safety stock) within the horizon",
    "first_shortage_quantity": "How much is missing on the first shortage day, in stock units",
    "item": "The item's code",
    "site": "The plant or warehouse",
    "on_hand": "Stock on hand now, in stock units",
    "total_net_requirements": "Everything still to be supplied within the planning horizon, "
                              "after stock and open supply",
    "pegged_to": "The top-level demand (sales order or forecast) this requirement serves",
    "new_net_requirement": "Net requirement the change adds, in stock units",
    "first_shortage_date_before": "The first shortage day before the change (empty: none)",
    "first_a": "First shortage day before the change",
    "first_b": "First shortage day after the change",
    "gross_a": "Gross requirements in the horizon before the change",
    "gross_b": "Gross requirements in the horizon after the change",
    "net_a": "Net requirements in the horizon before the change",
    "net_b": "Net requirements in the horizon after the change",
    "value": "The excess quantity valued at standard cost",
    "start_date": "The day the order starts",
    "due_date": "The day the order is due",
    "planned_quantity": "Quantity the planning engine plans for the demand",
    # suppliers and purchase orders
    "supplier": "The supplier",
    "lines": "Purchase order lines of the supplier in the history",
    "open_late_lines": "Open purchase order lines already past their promised date",
    "max_days_late": "The most days any open line is late",
    "promise_changes": "How often the supplier changed a promised date",
    "name": "The supplier's name",
    "purchase_order": "The purchase order number",
    "line": "The line number on the purchase order",
    "requested_date": "The date we asked the supplier to deliver",
    "latest_promise": "The date the supplier promised last",
    "days_late": "Days the line is (or was) late against the requested date",
    # approvals and decisions
    "requisition": "The purchase requisition in the source system",
    "action": "What the planning engine advises for the requisition (approve, reduce, "
              "increase, expedite, defer, cancel, switch source)",
    "proposed_quantity": "The quantity the advice proposes, in stock units",
    "need_date": "The day the material is needed",
    "proposed_date": "The date the advice proposes",
    "reason": "Why: the planning fact behind the advice",
    "decided_at": "When the decision was made (local time)",
    "decided_by": "Who made the decision",
    "verdict": "The decision: approved, rejected or modified",
    "comment": "The comment given with the decision",
    "advice_action": "The advice the decision was made on",
    "outbox_state": "Where its write-back to the source stands (queued, sent, confirmed, "
                    "failed, conflict)",
    "state": "Where the write-back stands: queued, sent, confirmed, failed or conflict",
    "attempts": "How often the write-back was tried",
    "updated_at": "When the entry last changed (local time)",
    "last_error": "Why the last attempt failed (empty when it did not)",
    # sources and sync runs
    "title": "The configured source",
    "connector": "Which source system the rows come from",
    "reachable": "Whether the source answered the last check",
    "last_status": "How the last sync run of the source ended",
    "last_success": "When the source was last synced successfully (local time)",
    "age": "How long ago the last successful sync was",
    "error": "Why the run failed (empty when it did not)",
    "started_at": "When the run started (local time)",
    "status": "The state of the run or order",
    "duration_s": "How many seconds the run took",
    "counts_text": "Records added, changed and deleted per entity by the run",
    "rejected": "Rows the run refused (listed below when the run is selected)",
    "file": "The file the rejected row is in",
    "row": "The row number as a spreadsheet shows it (the header is row 1)",
    "field": "The field the row was refused for",
    "entity": "What kind of record (items, bom_lines, purchase_orders, ...)",
    "key": "The record's key in its file",
    "params_text": "How the source is reached (never a password: those are in the keyring)",
    "enabled_text": "Whether Sync now includes this source",
    # supplier promises and the EDI inbox
    "changed_at": "When the promise changed (local time)",
    "promised_date": "The delivery date the supplier promised with this change",
    "document_number": "The supplier's document number (acknowledgement or ship notice)",
    "source": "Where the change came from: the source system or the EDI inbox",
    "outcome": "What became of the file: applied, duplicate, superseded or rejected",
    "supplier_name": "The supplier's name",
    "received_at": "When the file arrived in the inbox (local time)",
    "processed_at": "When the file was read and applied or rejected (local time)",
    "replays": "How often the file was replayed after its cause was fixed",
    "sender": "The sender's identification in the interchange",
}

#: (column name, title) -> description, where one name means different things in different tables
TITLED_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("code", "Work order"): "The work order number",
    ("code", "Demand"): "The demand: a sales order line or a forecast",
    ("kind", "Requirement"): "What the requirement is: independent demand (sales order, "
                             "forecast) or dependent demand from a parent's order",
    ("kind", "Kind"): "Sales order or forecast",
    ("kind", "Supply"): "The kind of supply in excess (stock, purchase order, work order)",
    ("ref", "From"): "The order the requirement comes from",
    ("ref", "Reference"): "The order or stock the excess is in",
    ("date", "Need date"): "The day the requirement is due",
    ("date", "Date"): "The date decided on",
    ("quantity", "Quantity"): "The required quantity, in stock units",
    ("quantity", "Qty"): "The quantity, in stock units",
    ("quantity", "Planned qty"): "The quantity the planning engine plans, in stock units",
    ("quantity", "Excess qty"): "Supply beyond every requirement in the horizon, in stock units",
    ("id", "Entry"): "The outbox entry number",
    ("id", "Run"): "The sync run number",
    ("connector", "Source"): "The source system the entry or run belongs to",
    ("action", "Action"): "What the decision asks the source to do",
    ("verdict", "Decision"): "The decision: approved, rejected or modified",
    ("name", "Source"): "The source's name in the settings",
    ("promise_changes", "Changes"): "How often the promised date of this line changed",
    ("item", "Assembly"): "The assembly the item is used in",
    ("site", "Site"): "The plant or warehouse",
    ("id", "File no."): "The number of the file in the EDI inbox",
    ("kind", "Message"): "The kind of EDI message: order acknowledgement or ship notice",
    ("source", "Inbox"): "The EDI source whose inbox the file arrived in",
}


#: header title -> description, for the few tables built without column specs (the BOM and
#: where-used trees, the outbox's conflict comparison); the window sets them as header tooltips
HEADER_DESCRIPTIONS: dict[str, str] = {
    "Component": "The component item and its description",
    "Description": "The item's description from the item master",
    "Qty per": "Quantity of the component per one of its parent, in the line's unit",
    "Unit": "The unit the quantity per is given in",
    "Scrap %": "Scrap allowance added on top of the quantity per",
    "Revision": "The BOM revision the line belongs to",
    "Position": "The line's position number in the BOM",
    "Used in": "The assembly the item goes into, level by level up to the sold items",
    "Extended qty": "Quantity of the item needed for one of this assembly, over all levels",
    "Field": "The field of the record the decision changes",
    "In the cache": "The value as the analysis saw it (until a sync brings the source's)",
    "Our decision": "The value our decision writes",
    "Source now": "The value the source holds now",
    # the Overview's exception counts (bands of workbench.app.exception_views.AGE_BANDS)
    "0-2 d": "Open exception messages raised 0 to 2 days ago",
    "3-7 d": "Open exception messages raised 3 to 7 days ago",
    "8-14 d": "Open exception messages raised 8 to 14 days ago",
    "15+ d": "Open exception messages raised 15 or more days ago",
    "Kind": "The kind of exception message",
    "Open": "Messages of this kind not yet acted on, acknowledged or snoozed",
}


def describe(col: Col) -> str:
    """What ``col`` holds, for its header's tooltip ("" when nothing describes it)."""
    return (col.tip or TITLED_DESCRIPTIONS.get((col.name, col.title))
            or COLUMN_DESCRIPTIONS.get(col.name, ""))


def describe_title(title: str) -> str:
    """The description of a header known only by its title (:data:`HEADER_DESCRIPTIONS`)."""
    return HEADER_DESCRIPTIONS.get(title, "")


ITEM_COLUMNS = [
    Col("code", "Item"),
    Col("description", "Description"),
    Col("make_buy", "Make/buy"),
    Col("stock_uom", "Unit"),
    Col("lead_time_days", "Lead time (days)", "int"),
    Col("safety_stock", "Safety stock", "qty", unit_of="code"),
    Col("standard_cost", "Std cost", "money"),
    Col("planner", "Planner"),
    Col("buyer", "Buyer"),
    Col("default_supplier", "Supplier", names="supplier"),
]

DIFF_COLUMNS = [
    Col("component", "Component", names="item"),
    Col("change", "Change"),
    Col("before_quantity_per", "Qty before", "qty", unit_of="component"),
    Col("after_quantity_per", "Qty after", "qty", unit_of="component"),
    Col("changed", "What changed"),
    Col("before_scrap_pct", "Scrap % before", "qty"),
    Col("after_scrap_pct", "Scrap % after", "qty"),
]

SHORTAGE_COLUMNS = [
    Col("first_shortage_date", "First shortage", "date"),
    Col("first_shortage_quantity", "Short qty", "qty", unit_of="item"),
    Col("item", "Item"),
    Col("description", "Description"),
    Col("site", "Site", names="site"),
    Col("planner", "Planner"),
    Col("buyer", "Buyer"),
    Col("on_hand", "On hand", "qty", unit_of="item"),
    Col("safety_stock", "Safety stock", "qty", unit_of="item"),
    Col("total_net_requirements", "Net req. (horizon)", "qty", unit_of="item"),
]

PEG_COLUMNS = [
    Col("date", "Need date", "date"),
    Col("quantity", "Quantity", "qty", unit_of="item"),
    Col("kind", "Requirement"),
    Col("ref", "From"),
    Col("pegged_to", "Pegged to top-level demand"),
]
