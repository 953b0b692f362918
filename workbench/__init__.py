"""Planner Workbench: BOM revision impact, shortages, supplier slippage and requisition
re-evaluation on a local cache of ERP/PLM/WMS data."""

__version__ = "0.1.0"
APP_NAME = "PlannerWorkbench"
APP_ID = "org.plannerworkbench.PlannerWorkbench"
