"""What the mapping use cases (workbench.services.mapping) need from the files connector,
reached through the connector registry (``FilesConnector.mapping_tools``): the core never
imports a concrete connector."""

from __future__ import annotations

from planner_connectors.files.cells import as_text
from planner_connectors.files.profile import ProfileError, Reading, entity_fields, field_kind, target_of
from planner_connectors.files.profile_file import load_profile
from planner_connectors.files.source import MappedSource
from planner_connectors.files.tables import SPREADSHEETS, Table, read_tables


class MappingTools:
    """The profile engine's entry points, as one object."""

    as_text = staticmethod(as_text)
    entity_fields = staticmethod(entity_fields)
    field_kind = staticmethod(field_kind)
    target_of = staticmethod(target_of)
    load_profile = staticmethod(load_profile)
    read_tables = staticmethod(read_tables)
    MappedSource = MappedSource
    ProfileError = ProfileError
    Reading = Reading
    Table = Table
    SPREADSHEETS = SPREADSHEETS
