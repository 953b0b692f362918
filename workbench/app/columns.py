"""Column definitions of the tables the jobs fill (shared by the panels and the worker
processes; light to import)."""

from __future__ import annotations

from workbench.app.tables import Col

ITEM_COLUMNS = [
    Col("code", "Item"),
    Col("description", "Description"),
    Col("make_buy", "Make/buy"),
    Col("stock_uom", "Unit"),
    Col("lead_time_days", "Lead time (days)", "int"),
    Col("safety_stock", "Safety stock", "qty"),
    Col("standard_cost", "Std cost", "money"),
    Col("planner", "Planner"),
    Col("buyer", "Buyer"),
    Col("default_supplier", "Supplier"),
]

DIFF_COLUMNS = [
    Col("component", "Component"),
    Col("change", "Change"),
    Col("before_quantity_per", "Qty before", "qty"),
    Col("after_quantity_per", "Qty after", "qty"),
    Col("changed", "What changed"),
    Col("before_scrap_pct", "Scrap % before", "qty"),
    Col("after_scrap_pct", "Scrap % after", "qty"),
]

SHORTAGE_COLUMNS = [
    Col("first_shortage_date", "First shortage", "date"),
    Col("first_shortage_quantity", "Short qty", "qty"),
    Col("item", "Item"),
    Col("description", "Description"),
    Col("site", "Site"),
    Col("planner", "Planner"),
    Col("buyer", "Buyer"),
    Col("on_hand", "On hand", "qty"),
    Col("safety_stock", "Safety stock", "qty"),
    Col("total_net_requirements", "Net req. (horizon)", "qty"),
]

PEG_COLUMNS = [
    Col("date", "Need date", "date"),
    Col("quantity", "Quantity", "qty"),
    Col("kind", "Requirement"),
    Col("ref", "From"),
    Col("pegged_to", "Pegged to top-level demand"),
]
