"""Planning buckets: the horizon cut into days or weeks, and where a date falls in it.

Weekly buckets start on the Monday of the planning day's week, daily buckets on the planning day.
Anything dated before the first bucket (past due) lands in bucket 0, so it is planned now rather
than forgotten; anything at or after the horizon's end is outside the plan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from workbench.analysis.data import date_of, day_number

_HORIZON = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Calendar:
    today: int  # the planning day, as a day number
    bucket_days: int
    n_buckets: int

    @classmethod
    def weekly(cls, today: dt.date, weeks: int) -> Calendar:
        return cls(day_number(today), 7, weeks)

    @classmethod
    def daily(cls, today: dt.date, days: int) -> Calendar:
        return cls(day_number(today), 1, days)

    @classmethod
    def parse(cls, today: dt.date, horizon: str = "26w", bucket: str = "week") -> Calendar:
        """A calendar from a horizon like ``26w`` or ``90d`` (plain number = buckets)."""
        match = _HORIZON.match(horizon)
        if not match:
            raise ValueError(f"horizon {horizon!r}: expected e.g. 26w or 180d")
        amount, unit = int(match.group(1)), match.group(2).lower()
        if amount <= 0:
            raise ValueError("horizon must be positive")
        if bucket not in ("week", "day"):
            raise ValueError(f"bucket {bucket!r}: expected week or day")
        days = amount * 7 if unit == "w" else amount if unit == "d" else None
        if bucket == "week":
            return cls.weekly(today, amount if days is None else -(-days // 7))
        return cls.daily(today, amount if days is None else days)

    @property
    def start(self) -> int:
        if self.bucket_days == 7:
            return self.today - (self.today + 3) % 7  # day 0 (1970-01-01) was a Thursday
        return self.today

    @property
    def starts(self) -> np.ndarray:
        return self.start + np.arange(self.n_buckets, dtype=np.int64) * self.bucket_days

    @property
    def end(self) -> int:
        return self.start + self.n_buckets * self.bucket_days

    def bucket(self, days: np.ndarray) -> np.ndarray:
        """Bucket of each day number: past due -> 0, at or beyond the horizon -> -1."""
        b = (np.asarray(days, dtype=np.int64) - self.start) // self.bucket_days
        b = np.maximum(b, 0)
        return np.where(b >= self.n_buckets, -1, b)

    def offset(self, lead_time_days: np.ndarray) -> np.ndarray:
        """Lead time in whole buckets, rounded up: an order due at a bucket's start is released in
        the bucket holding (due date - lead time)."""
        return -(-np.asarray(lead_time_days, dtype=np.int64) // self.bucket_days)

    def date(self, bucket: int) -> dt.date:
        return date_of(int(self.start + bucket * self.bucket_days))

    def need_date(self, bucket: int) -> dt.date:
        """The date a requirement of ``bucket`` is needed: its start, but not before today."""
        return date_of(max(int(self.start + bucket * self.bucket_days), self.today))

    def dates(self) -> list[dt.date]:
        return [self.date(b) for b in range(self.n_buckets)]
