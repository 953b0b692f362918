"""Tryton ERP connector: JSON-RPC over httpx, incremental pull and safe write-back.

See docs/tryton.md for how to point the application at a Tryton server and for the mapping of
Tryton's records onto the canonical model.
"""

from planner_connectors.tryton.connector import TrytonConnector

__all__ = ["TrytonConnector"]
