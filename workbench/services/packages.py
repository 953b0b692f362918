"""Exporting the cache as a canonical data package (the files connector reads it back).

Text a spreadsheet would run as a formula is written with a quote in front
(:func:`neutralise_frame`, the one helper every CSV/XLSX writer of the app uses; the files
connector reads the text back as it was). Each file is written under a temporary name and
renamed over the old one, so an interrupted export leaves each file whole.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from workbench.cache.frames import read_entity_frame
from workbench.cache.schema import ENTITY_TABLES
from workbench.domain.cells import FORMULA_START, neutralise
from workbench.domain.models import ENTITY_MODELS, package_columns
from workbench.services.tasks import TaskState, check_cancelled


def package_frame(engine: Engine, entity: str) -> pd.DataFrame:
    """An entity's live cache rows as the source delivered them (original quantities and units)."""
    model = ENTITY_MODELS[entity]
    cols = [c for c in package_columns(entity) if c != "uom"]
    select_cols = [f"orig_{c}" if c in model.quantity_fields else c for c in cols]
    if model.quantity_fields:
        select_cols.append("orig_uom")
    frame = read_entity_frame(engine, entity, columns=select_cols, parse_dates=False)
    frame.columns = cols + (["uom"] if model.quantity_fields else [])
    sort = list(model.key_fields)
    return frame.sort_values(sort, kind="stable").reset_index(drop=True)


def export_package(engine: Engine, folder: str | Path, state: TaskState | None = None) -> dict[str, int]:
    """Write every entity of the cache to ``folder``; returns rows written per entity."""
    frames = {}
    for n, entity in enumerate(ENTITY_TABLES):
        check_cancelled(state)
        if state:
            state.set_status(f"exporting {entity}")
            state.set_progress(n, len(ENTITY_TABLES))
        frames[entity] = package_frame(engine, entity)
    return write_package(frames, folder)


def write_package(frames: dict[str, pd.DataFrame], folder: str | Path) -> dict[str, int]:
    """Write DataFrames (canonical columns) as a data package; returns rows written per entity."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for entity, frame in frames.items():
        buf = io.StringIO()
        # CRLF rows (RFC 4180): the csv module then quotes text holding a bare carriage
        # return too, which with "\n" rows it leaves bare, splitting the record when read
        neutralise_frame(frame.reindex(columns=package_columns(entity))).to_csv(
            buf, index=False, lineterminator="\r\n"
        )
        target = folder / f"{entity}.csv"
        part = target.with_name(f".{target.name}.part")
        part.write_text(buf.getvalue(), encoding="utf-8")
        part.replace(target)
        written[entity] = len(frame)
    return written


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell a spreadsheet would run as a formula quoted (see
    :mod:`workbench.domain.cells`); numbers and other cells unchanged. Returns a copy only
    when something had to change."""
    out = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values.dtype):
            continue
        starts = (*FORMULA_START, "'")
        try:
            mask = values.str.startswith(starts, na=False).astype(bool)
        except AttributeError:  # no text in the column at all
            continue
        if not mask.any():
            continue
        if out is frame:
            out = frame.copy()
        out[column] = values.astype(object)
        out.loc[mask, column] = values[mask].map(neutralise)
    return out
