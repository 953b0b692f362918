"""The team cache as a source (``workbench sources add NAME team cache=postgresql://…``): a
workstation's local SQLite copy of the plant's shared cache, pulled through the ordinary sync
with watermarks, and the decisions made on the copy pushed back. See docs/team-cache.md."""

from planner_connectors.team.connector import TeamConnector, TeamOptions

__all__ = ["TeamConnector", "TeamOptions"]
