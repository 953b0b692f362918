"""The demo's calendar, version stamps and random streams.

Everything is computed in *day offsets* from the demo's base date (``BASE_DATE``, a Monday), so
the data never depend on the wall clock. Dates are turned into ``datetime.date`` objects only when
a batch of records is built, through a lookup table (much cheaper than constructing dates one by
one). ``NO_DATE`` marks an empty date in an offset array.

Version stamps are ``d`` + the zero-padded simulated day of a record's last change (``d00000`` for
everything the plant already had on day 0), so they sort as strings the way they sort as days. A
record whose last change was a write the demo took (:mod:`planner_connectors.demo.ledger`) has ``.w`` +
the write's number added: ``d00007.w000003`` is write 3, made on day 7. It sorts after every
change of day 7 before it and before anything of day 8, so a version is a (day, write) pair that
still sorts as a string.

Each entity and each simulated day draws from its own random stream, derived from the seed and a
name, so pulling entities in another order (or pulling only some) never changes the data.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from typing import Any

import numpy as np

BASE_DATE = dt.date(2026, 11, 2)
#: the day (relative to day 0) the plant's plan was last balanced by MRP
MRP_DAY = -21
NO_DATE = -(2**30)
_VERSION = re.compile(r"^d(\d{5,})(?:\.w(\d{6,}))?$")


def version(day: int, write: int = 0) -> str:
    """The stamp of (day, write number); write 0: a change of the simulation, no write."""
    return f"d{day:05d}.w{write:06d}" if write else f"d{day:05d}"


def parse_version(stamp: str) -> tuple[int, int]:
    """The (simulated day, write number) of a version stamp this connector produced."""
    m = _VERSION.match(stamp)
    if not m:
        raise ValueError(
            f"{stamp!r} is not a demo watermark (expected 'd' and a day number, like 'd00007')"
        )
    return int(m.group(1)), int(m.group(2) or 0)


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """An independent random stream for (seed, names), stable across runs and platforms."""
    parts = [int(seed) & 0xFFFFFFFF]
    parts += [zlib.crc32(n.encode()) if isinstance(n, str) else int(n) for n in names]
    return np.random.default_rng(parts)


def pick_in(lo: Any, hi: Any, u: np.ndarray) -> np.ndarray:
    """Integers in [lo, hi) from draws ``u`` in [0, 1): uniform u, uniform picks; skewed
    (e.g. ``u ** 2``), the low end far likelier."""
    out: np.ndarray = (lo + np.floor((hi - lo) * u)).astype(np.int64)
    return out


def to_weekday(offsets: np.ndarray, back: bool = False) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday (``back``: the Friday before)."""
    wd = (offsets + BASE_DATE.weekday()) % 7
    if back:
        return offsets - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))
    return offsets + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def is_workday(offset: int) -> bool:
    return (offset + BASE_DATE.weekday()) % 7 < 5


class Calendar:
    """Date objects for day offsets in [lo, hi], and version stamps for days [0, hi]."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = lo
        self.hi = hi
        one = dt.timedelta(days=1)
        first = BASE_DATE + lo * one
        dates: list[dt.date | None] = [first + i * one for i in range(hi - lo + 1)]
        dates.append(None)  # index -1: no date
        self.dates = np.array(dates, dtype=object)
        self.versions = np.array([version(d) for d in range(max(hi, 0) + 1)], dtype=object)

    def index(self, offsets: np.ndarray) -> np.ndarray:
        """Positions in ``self.dates`` of the offsets (NO_DATE -> the trailing None)."""
        if offsets.size:
            real = offsets[offsets != NO_DATE]
            if real.size and (real.min() < self.lo or real.max() > self.hi):
                raise ValueError(f"date offset outside the demo calendar [{self.lo}, {self.hi}]")
        return np.where(offsets == NO_DATE, -1, offsets - self.lo)
