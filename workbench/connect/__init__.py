"""The connector port: what the core asks of a source system (no concrete adapter here).

:mod:`workbench.connect.port` holds the protocol, capabilities, batches, the push request and
result and the errors; :mod:`workbench.connect.urls` the rules for URLs in source settings.
Adapters (``planner_connectors``, add-on packages) implement the port and register through the
``planner_workbench.connectors`` entry point.
"""
