"""Planner Workbench's built-in adapters to source systems: demo, files, tryton, edi.

The import package has a name of its own in site-packages (not a bare ``connectors``); the
repository keeps it in the top-level ``connectors/`` folder. Each adapter implements the port in
:mod:`workbench.connect` and registers through the ``planner_workbench.connectors`` entry point
exactly as an add-on package would; the core never imports a concrete adapter.
"""
