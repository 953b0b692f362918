"""The endangered demands of every message as columns: no dict or list per entry until one is
asked for.

:func:`workbench.analysis.exceptions.compute_exceptions` lists up to ``max_endangered`` demands
per message (:mod:`.endangers`); on the large demo that is about 230,000 entries for 242,000
messages. Made as a dict per entry and a list per message they cost about as much as finding
them. :class:`Endangered` keeps them as arrays instead — per entry its peg (a code into the
distinct peg names), due day and quantity (rounded to 6 decimals, as listed); per message the
run ``[start, stop)`` of its entries (messages on one receipt share one run) — and gives:

* :meth:`Endangered.lists`: every message's list of ``{"peg", "due_date", "quantity"}`` dicts,
  the very values the message frame's ``endangers`` column held before (what
  :attr:`~workbench.analysis.exceptions.ExceptionList.messages` shows, built on first access);
* :meth:`Endangered.json_texts`: every message's ``"endangers": [...]`` payload text, written
  from the arrays: each distinct peg, date and quantity formatted once, each entry's text once.
  Byte for byte what ``json.dumps(plain(entry))`` of each listed dict gives (the refresh's
  cache rows, :func:`workbench.services.exceptions.message_rows`;
  tests/foundation/test_exception_json.py on the medium demo).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse

from workbench.analysis.sources import EPS

from .intervals import group_first
from .ordering import lex_order
from .pegs import DueDates

_ESCAPE = json.encoder.encode_basestring_ascii


@dataclass(frozen=True)
class Endangered:
    """Every message's endangered demands (module doc): ``start``/``stop`` per message (int64,
    positions in the entry arrays), ``peg`` per entry (int64 into ``names``, the peg names as
    an object array of str), ``day`` per entry (int64 day numbers; below -10**9: no date) and
    ``quantity`` per entry (float, already rounded to 6 decimals)."""

    start: np.ndarray
    stop: np.ndarray
    names: np.ndarray
    peg: np.ndarray
    day: np.ndarray
    quantity: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def empty(cls, n: int) -> Endangered:
        """``n`` messages that endanger nothing."""
        none = np.zeros(0, np.int64)
        return cls(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(0, object), none,
                   none, np.zeros(0, float))

    def take(self, order: np.ndarray) -> Endangered:
        """The messages in ``order`` (positions), sharing the entries."""
        return replace(self, start=self.start[order], stop=self.stop[order])

    def __getitem__(self, i: int) -> list[dict[str, Any]]:
        """Message ``i``'s list (as :meth:`lists` gives it)."""
        at = slice(int(self.start[i]), int(self.stop[i]))
        dates = day_dates(self.day[at]).tolist()
        return [{"peg": k, "due_date": d, "quantity": q} for k, d, q in
                zip(self.names[self.peg[at]].tolist(), dates, self.quantity[at].tolist())]

    def lists(self) -> list[list[dict[str, Any]]]:
        """Every message's list of ``{"peg", "due_date", "quantity"}`` (a date or None; a
        float): one dict per entry, shared by the messages on one receipt."""
        distinct, at = np.unique(self.day, return_inverse=True)  # each day converted once
        dates = day_dates(distinct)[at]
        entries = [{"peg": k, "due_date": d, "quantity": q} for k, d, q in
                   zip(self.names[self.peg].tolist(), dates.tolist(), self.quantity.tolist())]
        return [entries[a:b] for a, b in zip(self.start.tolist(), self.stop.tolist())]

    def json_texts(self) -> list[str]:
        """Every message's ``"endangers": [...]`` as the payload JSON holds it: each entry
        ``{"peg": <name>, "due_date": "<ISO date>" or null, "quantity": <repr>}`` exactly as
        ``json.dumps(plain(entry))`` writes the dict :meth:`lists` gives."""
        pegs = np.array([_ESCAPE(k) for k in self.names.tolist()] + [""], dtype=object)
        days, day_at = np.unique(self.day, return_inverse=True)
        day_text = np.array(["null" if d is None else f'"{d}"'
                             for d in day_dates(days).tolist()] + [""], dtype=object)
        qty, qty_at = np.unique(self.quantity, return_inverse=True)
        qty_text = np.array([_number(q) for q in qty.tolist()] + [""], dtype=object)
        entries = [f'{{"peg": {k}, "due_date": {d}, "quantity": {q}}}' for k, d, q in
                   zip(pegs[self.peg].tolist(), day_text[day_at].tolist(),
                       qty_text[qty_at].tolist())]
        empty = '"endangers": []'
        return [empty if a == b else '"endangers": [' + ", ".join(entries[a:b]) + "]"
                for a, b in zip(self.start.tolist(), self.stop.tolist())]


def _number(q: float) -> str:
    """A listed quantity as ``json.dumps(plain(q))`` writes it (``plain``: rounded to 6
    decimals, -0.0 as 0.0)."""
    value = round(q, 6) + 0.0
    return float.__repr__(value) if math.isfinite(value) else json.dumps(value)


def listed(pegs: sparse.csr_matrix, due: DueDates, limit: int
           ) -> list[list[dict[str, object]]]:
    """Per matrix row, :meth:`.pegs.DueDates.listed` of its pegs: the demands with more than
    EPS, largest quantity first (then by name), at most ``limit`` (:func:`listed_entries` as
    dicts; each row's list is one slice of them)."""
    bounds, used, at, rounded = listed_entries(pegs, due, limit)
    dates = day_dates(due.days[used])  # columns are due's names
    names = due.names[used]
    entries = [{"peg": k, "due_date": d, "quantity": q} for k, d, q in
               zip(names[at].tolist(), dates[at].tolist(), rounded.tolist())]
    return [entries[a:b] for a, b in pairwise(bounds.tolist())]


def listed_entries(pegs: sparse.csr_matrix, due: DueDates, limit: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`listed` as arrays: ``bounds`` (row r's entries are ``bounds[r]:bounds[r+1]``),
    ``used`` (the listed columns, ascending), per entry ``at`` (its column as a position in
    ``used``) and its quantity rounded to 6 decimals (Python's ``round``, once per distinct
    quantity: :func:`round6`). Selection and order are array work (rows are sorted, so a row's entries are
    contiguous)."""
    coo = pegs.tocoo()
    keep = coo.data > EPS
    r, col, v = coo.row[keep], coo.col[keep], coo.data[keep]
    distinct, which = np.unique(v, return_inverse=True)  # quantity ranks; rounded once each
    order = lex_order([r, len(distinct) - 1 - which, col])  # row, largest first, name
    r, col, which = r[order], col[order], which[order]
    top = np.arange(len(r)) - group_first(r) < limit
    r, col, which = r[top], col[top], which[top]
    used, at = distinct_marked(col, pegs.shape[1])  # names and dates of listed columns only
    rounded = round6(distinct)[which]
    bounds = np.searchsorted(r, np.arange(pegs.shape[0] + 1))
    return bounds, used, at.astype(np.int64), rounded


def distinct_marked(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integers in ``[0, size)``: the
    distinct values ascending and each value's position among them, by a mark per value (no
    sort)."""
    values = np.asarray(values, np.int64)
    present = np.zeros(size, bool)
    present[values] = True
    number = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), number[values]


def round6(values: np.ndarray) -> np.ndarray:
    """``round(q, 6)`` of every float at once, the very value Python's ``round`` gives.

    Python rounds the double's exact binary value to 6 decimals (half to even) and returns
    the double nearest that decimal ``k / 10**6``; ``k / 1e6`` in floating point is that same
    nearest double (IEEE division of two exact numbers is correctly rounded, ``|k| < 2**53``).
    So only ``k`` needs finding: ``p = q * 1e6`` is within half a unit in its last place
    (``spacing(p) / 2``) of the exact ``q * 10**6``, hence where ``p`` lies farther than
    ``spacing(p)`` from the midpoint between two integers, the exact value rounds to the
    integer nearest ``p`` (``rint(p)``; ``p - rint(p)`` is exact). The values near a midpoint
    (none on the large demo), beyond ``2**31`` or not finite keep Python's ``round``, one call
    each. (Before: ``round`` for each of ~120,000 distinct quantities, 0.045 s on the large
    demo.)"""
    q = np.asarray(values, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # huge or not finite: the slow path
        p = q * 1e6
        k = np.rint(p)
        safe = (np.abs(q) < 2.0**31) & (np.abs(p - k) + np.spacing(np.abs(p)) < 0.5)
        out = k / 1e6
    slow = np.flatnonzero(~safe)
    if len(slow):
        out[slow] = [round(v, 6) for v in q[slow].tolist()]
    return out


def day_dates(days: np.ndarray) -> np.ndarray:
    """:func:`.pegs.day_date` of every day number at once (an object array of dates, None for
    no date)."""
    days = np.asarray(days, np.int64)
    out = np.full(len(days), None, dtype=object)
    valid = days >= -(10**9)
    out[valid] = days[valid].astype("datetime64[D]").astype(object)
    return out
