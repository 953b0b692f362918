"""The settings a user gives a Tryton source (``workbench sources add NAME tryton KEY=VALUE``).

Settings hold text; these types convert and check each value when the source is saved and when
the connector is built, so a bad value is named then, not as a TypeError in the next sync.
The password is never an option: it lives in the system keyring (docs/tryton.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TrytonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(min_length=1, description="the server, e.g. https://erp.example.com:8000")
    database: str = Field(min_length=1, description="the Tryton database")
    user: str = Field("admin", min_length=1, description="the Tryton login")
    timeout: float = Field(60.0, gt=0, le=3600, allow_inf_nan=False,
                           description="seconds to wait for one server answer")
    overlap_seconds: float = Field(300.0, ge=0, le=7 * 86400, allow_inf_nan=False,
                                   description="an incremental pull re-reads this far back")
    parallel_reads: int = Field(1, ge=1, le=64,
                                description="reads at a time (the server's worker processes)")
    insecure: bool = Field(False, description="allow plain http:// to another machine (the "
                           "password and the session travel unencrypted)")
