"""The settings of a demo source (``workbench sources add NAME demo scale=medium``): converted
and checked when the source is saved and when the connector is built."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DemoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scale: Literal["small", "medium", "large"] | None = Field(None, description="plant size")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="random seed of the plant")
    day: int | None = Field(None, ge=0, description="simulated days after the start")
    ledger: str | None = Field(None, description="file keeping the writes (default: beside the cache)")
