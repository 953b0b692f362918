"""The connector port: what the core asks of a source system (no concrete adapter here).

:mod:`workbench.connect.port` holds the protocol (every member, required and optional, in the
table of its docstring), ``ConnectorBase`` with the optional members' defaults, capabilities,
batches, the push request and result and the errors; :mod:`workbench.connect.inbox` the
message-inbox part (EDI); :mod:`workbench.connect.factory` ``open_connector``, the one way a
connector is opened; :mod:`workbench.connect.credentials` the keyring;
:mod:`workbench.connect.urls` the rules for URLs in source settings. Adapters
(``planner_connectors``, add-on packages) implement the port and register through the
``planner_workbench.connectors`` entry point (docs/connectors.md).
"""
