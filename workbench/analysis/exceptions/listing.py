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
from typing import Any

import numpy as np

from .pegmatrix import day_dates

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
