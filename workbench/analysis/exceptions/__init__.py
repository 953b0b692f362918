"""Exception messages computed with every plan: where a planner's and a buyer's day starts.

The rules, one function each (codes are stable; triggers, formulas and worked examples in
docs/exceptions.md; tolerances in :class:`ExceptionSettings`):

======  ======================  =====================================================  =========
code    kind                    rule (function)                                        module
======  ======================  =====================================================  =========
E01     reschedule_in           firm receipt due after its need                        supply
E02     reschedule_out          firm receipt due before its need beyond a tolerance    supply
E03     cancel                  firm receipt with no need in the horizon               supply
E04     reduce                  firm receipt larger than its need (lots, whole units)  supply
E05     increase                planned receipt in the bucket a firm receipt is due    supply
E06     release_past_due        planned order whose release date has passed            supply
E07     order_past_due          open PO line or work order past its due date           supply
E08     below_safety_stock      firm projection below safety stock within lead time    supply
E09     demand_late             demand pegged to a planned order released too late     here
E10     confirmation_missing    sent PO line unacknowledged after N days               purchasing
E11     confirmation_differs    rejected, changed, or promised off the requested date  purchasing
E12     ship_notice_mismatch    ship notice quantity or date off its line              purchasing
E13     revision_conflict       supply of a component no revision in force uses        engineering
E14     draft_revision_pending  draft revision while orders are open on another        engineering
E15     data_problem            source data that cannot be right                       records
======  ======================  =====================================================  =========

The rules that read the data only (E07, E10-E15) are judged once per data load and reused by
every later plan of the same data (:mod:`.perload`); the others run with every plan.
Firm receipts are judged by which need they serve (:mod:`.coverage`). Every message names its
element, item, site, role, severity, the suggested date and/or quantity, and the top-level
demands the element serves (``endangers``, :mod:`.pegs`); :func:`name_messages` adds item
descriptions, units, site and supplier names. The result is a frame with the documented
columns (:data:`MESSAGE_COLUMNS`), one message per identity (kind + element).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.data import PlanningData, date_of
from workbench.analysis.lots import COUNT_UNIT_CODES
from workbench.analysis.netting import Plan
from workbench.analysis.overlay import PENDING_ORDER
from workbench.analysis.pegging import Pegging

from . import endangers as fast
from . import straight, supply
from .coverage import firm_coverage
from .kinds import (
    CODES,
    KINDS,
    MESSAGE_COLUMNS,
    NAME_COLUMNS,
    ROLES,
    SEVERITIES,
    ExceptionSettings,
    Kind,
    empty,
    message_key,
    str_array,
)
from .listing import Endangered
from .ordering import lex_order
from .pegmatrix import PegMatrix
from .perload import data_rules, kept_for, kept_while_equal
from .straight import plan_bucket

__all__ = ["CODES", "KINDS", "MESSAGE_COLUMNS", "NAME_COLUMNS", "ROLES", "SEVERITIES",
           "Endangered", "ExceptionList", "ExceptionMessage", "ExceptionSettings", "Kind",
           "compute_exceptions", "firm_coverage", "message_key", "name_messages", "plan_bucket"]

_HIDDEN = ("_row", "_before", "_needed", "_late", "_own_day", "_own_quantity", "_cov")


@dataclass(frozen=True)
class ExceptionMessage:
    """One message as a typed record (a row of :attr:`ExceptionList.messages`)."""

    key: str
    code: str
    kind: str
    severity: str
    role: str
    element: str
    element_type: str
    item: str
    site: str
    supplier: str
    due_date: dt.date | None
    need_date: dt.date | None
    suggested_date: dt.date | None
    quantity: float | None
    suggested_quantity: float | None
    days: float | None
    reason: str
    endangers: list[dict[str, Any]]
    item_description: str = ""
    unit: str = ""
    site_name: str = ""
    supplier_name: str = ""
    planner: str = ""
    buyer: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ExceptionMessage:
        return cls(**{f.name: cell_value(row.get(f.name, "" if f.name in NAME_COLUMNS else None))
                      for f in fields(cls)})


def cell_value(value: Any) -> Any:
    """A message frame's cell as a plain value: a date for a timestamp, None for NaT / NaN, a
    Python number for a numpy one; anything else as it is."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).date()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


class ExceptionList:
    """Every message of one plan: ``messages`` has :data:`MESSAGE_COLUMNS` (+ the name
    columns when named), sorted by severity, code, element.

    The endangered demands may come as columns (``endangered``, :class:`.listing.Endangered`,
    in the frame's order): the frame's ``endangers`` column then holds None until
    :attr:`messages` is first read, which fills it with every message's list of dicts. The
    refresh's cache rows read :attr:`frame` and write the JSON from ``endangered`` instead
    (:func:`workbench.services.exceptions.message_rows`), no dict per entry."""

    def __init__(self, planning_day: dt.date, messages: pd.DataFrame,
                 endangered: Endangered | None = None) -> None:
        self.planning_day = planning_day
        self._frame = messages
        self.endangered = endangered
        self._listed = endangered is None

    @property
    def messages(self) -> pd.DataFrame:
        """The message frame, every message's ``endangers`` a list of dicts."""
        if not self._listed:
            assert self.endangered is not None
            self._frame["endangers"] = self.endangered.lists()
            self._listed = True
        return self._frame

    @property
    def frame(self) -> pd.DataFrame:
        """The message frame as it is: ``endangers`` None where :attr:`endangered` holds the
        lists and :attr:`messages` was not read yet."""
        return self._frame

    def __repr__(self) -> str:
        return f"ExceptionList({self.planning_day!r}, {len(self._frame)} messages)"

    def typed(self) -> list[ExceptionMessage]:
        return [ExceptionMessage.from_row(r) for r in self.messages.to_dict("records")]

    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self._frame["kind"].value_counts().items()}


def compute_exceptions(data: PlanningData, plan: Plan, pegging: Pegging | None = None,
                       settings: ExceptionSettings | None = None, *,
                       site_names: Mapping[str, str] | None = None,
                       endangers: bool = True,
                       count_units: Collection[str] = COUNT_UNIT_CODES) -> ExceptionList:
    """Every message of every rule (module doc) for ``plan`` made from ``data``.

    The demands each message endangers (and E09, found through pegging) come from the whole
    plan's pegging at once (:mod:`.pegmatrix`, :mod:`.endangers`); given a ``pegging``
    (:class:`~workbench.analysis.pegging.Pegging` or :class:`.pegs.FastPegging`) they are asked
    of it message by message instead (:mod:`.straight`: the same answers, far slower; the
    reference the property test compares with). ``endangers=False`` leaves the pegged demands
    out (empty lists) and E09: the rules alone. ``count_units``: the codes of the count units
    (the units table's category ``count``, :func:`workbench.analysis.lots.count_units`): E04
    and E05 suggest whole units of them (:class:`.supply.PlacingUnits`)."""
    with collector_paused():
        return _compute(data, plan, pegging, settings, site_names, endangers, count_units)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a message list is built: the lists and
    dicts of a few hundred thousand messages (no cycles among them) would otherwise set off
    full collections over every object of the planning data, again and again (measured on the
    large demo: a third of the time spent listing endangered demands). Restored after, as it
    was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _compute(data: PlanningData, plan: Plan, pegging: Pegging | None,
             settings: ExceptionSettings | None, site_names: Mapping[str, str] | None,
             endangers: bool, count_units: Collection[str] = COUNT_UNIT_CODES) -> ExceptionList:
    s = settings or ExceptionSettings()
    today = plan.calendar.today
    cov = firm_coverage(plan, data=data)  # receipts' order and requirements: per load
    released = supply.release_past_due(plan)
    judged = data_rules(data, plan, s)  # the rules that read the data only: once per load
    due = judged.due if endangers else None
    # the independent claims' order kept per data load (data=)
    matrix = PegMatrix(plan, due, codes=judged.codes, data=data) \
        if due is not None and pegging is None else None
    if due is None:
        late = empty()
    elif matrix is not None:
        late = fast.demand_late(data, plan, released, matrix)
    else:
        assert pegging is not None
        late = straight.demand_late(data, plan, released, pegging)
    pol = judged.lines
    refs = fast.ref_index(data, cov)
    by = refs.by_rank  # E01-E05 listed by their reference's text: in message order
    names = _name_tables(data)
    items_at = data.derived("exceptions.item_rows", (names, judged), dict)
    cov_items = _coverage_items(items_at, names, cov) if len(names.items) else None
    # the step (stock units) E04/E05 round up to: the unit each receipt is placed in
    placing = _placing(data, names, cov, cov_items, count_units)
    # kept with the rules' entry (judged): judged again (other settings, a risk-adjusted
    # plan's sources, another day), the pieces of the old frames go with it
    pieces = data.derived("exceptions.pieces", (judged,), dict)
    # the per-load rules' frames in message order, one piece per severity: once per load
    loaded = [piece for judged_frame in (judged.past_due, *judged.purchasing,
                                         *judged.engineering, judged.records)
              for piece in kept_for(pieces, judged_frame, _in_message_order)]
    parts = [p for p in (
        supply.reschedule_in(cov, today, s, by), supply.reschedule_out(cov, today, s, by),
        supply.cancel(cov, by), supply.reduce(cov, plan, by, placing),
        supply.increase(cov, plan, by, placing),
        *_in_message_order(released), *_in_message_order(supply.below_safety_stock(plan)),
        *_in_message_order(late), *loaded) if len(p)]
    # the frames in message order (severity, code): then the messages are already sorted
    severities = {v: i for i, v in enumerate(SEVERITIES)}
    parts.sort(key=lambda p: (severities.get(p["severity"].iat[0], len(SEVERITIES)),
                              str(p["code"].iat[0])))
    # per message: the last coverage row of its element's reference (-1: none) and its
    # element's rank within its frame (frames are in element order); a firm receipt's rule
    # (E01-E05) carries its coverage row, a per-load rule's frame is looked up once per
    # load, the others' elements are no coverage reference (a planned order, a row, E09's
    # demand); and its item's row in the name tables (E01-E05: the coverage's items looked
    # up once per equal set of them)
    at: list[np.ndarray] = []
    within: list[np.ndarray] = []
    named: list[np.ndarray] = []
    nobody = np.zeros(0, np.int64)  # no item master: no name to look up
    # the per-load frames' coverage rows: kept with those frames and this reference index
    lookups = data.derived("exceptions.lookups", (judged, refs), dict)
    for p in parts:
        if "_cov" in p:
            position = p["_cov"].to_numpy(np.int64)
            at.append(refs.last[position])
            within.append(refs.rank[position])
            named.append(cov_items[position] if cov_items is not None else nobody)
        elif any(p is q for q in loaded):
            at.append(kept_for(lookups, p, lambda f: refs.lookup(f["element"].to_numpy(object))))
            within.append(np.arange(len(p)))
            named.append(kept_for(items_at, p, lambda f: _item_rows(names, f["item"]))
                         if len(names.items) else nobody)
        else:
            at.append(np.full(len(p), -1, np.int64))
            within.append(np.arange(len(p)))
            named.append(_item_rows(names, p["item"]) if len(names.items) else nobody)
    messages = pd.concat(parts or [empty()], ignore_index=True)
    _on_pending_orders(messages, data.derived("exceptions.pending", (pol,),
                                              lambda: _pending_elements(pol)))
    for hidden in _HIDDEN:
        if hidden not in messages:
            messages[hidden] = None
    endangered = None
    if matrix is not None and due is not None:
        endangered = fast.attach_endangers(messages, cov, matrix, due, s.max_endangered,
                                           at=np.concatenate(at) if at else None)
        messages["endangers"] = None  # listed on first read (ExceptionList.messages)
    elif pegging is not None and due is not None:
        straight.attach_endangers(messages, cov, pegging, due, s.max_endangered)
    messages = messages.drop(columns=list(_HIDDEN))
    if due is None:  # the rules alone: no pegged demands
        messages["endangers"] = [e or [] for e in messages["endangers"].tolist()]
    # severity: its rank, looked up once per distinct value (an unknown one last)
    found, distinct = pd.factorize(messages["severity"].to_numpy(object))
    rank = np.array([severities.get(v, len(SEVERITIES)) for v in distinct], np.int64)[found] \
        if len(distinct) else np.zeros(len(messages), np.int64)
    code, _ = pd.factorize(messages["code"], sort=True)
    # element: its rank by text (fixed-width unicode, compared in C) within its frame, which
    # holds every message of its severity and code when no two frames share them; equal
    # elements keep their frame order (the sort is stable)
    if _one_frame_per_group(rank * (len(code) + 1) + code, [len(p) for p in parts]):
        element = np.concatenate(within) if within else np.zeros(0, np.int64)
    else:
        element = _text_rank(messages["element"])
    order = lex_order([rank, code, element])  # severity, code, element
    # the frames came in message order: the order is the identity but where a frame's
    # messages were not of one severity and code
    moved = not np.array_equal(order, np.arange(len(order)))
    if moved:
        messages = messages.iloc[order].reset_index(drop=True)
    item_rows = (np.concatenate(named)[order] if moved else np.concatenate(named)) \
        if parts and len(names.items) else None
    # after the sort: fewer columns to put in order
    _add_names(messages, data, site_names, item_rows)
    return ExceptionList(date_of(today), messages, None if endangered is None
                         else endangered.take(order) if moved else endangered)


def _placing(data: PlanningData, names: _NameTables, cov: pd.DataFrame,
             cov_items: np.ndarray | None, count_units: Collection[str]) -> supply.Placing:
    """Per firm coverage row the step (and offset) its E04/E05 quantity is rounded up to
    (:class:`.supply.PlacingUnits`; items numbered as the name tables number them, ``cov_items``
    the coverage's, None: no item master), kept per data load: made again when the PO lines,
    the name tables or the count units (compared by value) differ, or the coverage's
    references (compared by value: the same objects on a later plan)."""
    kept = data.derived("exceptions.placing", (data.purchase_order_lines, names), dict)
    codes = frozenset(str(c) for c in count_units)
    if kept.get("counts") != codes:
        kept.clear()
        pol = data.purchase_order_lines
        kept["counts"] = codes
        kept["units"] = supply.PlacingUnits.of(
            pol, _item_rows(names, pol["item"]) if len(names.items) and len(pol)
            else np.full(len(pol), -1, np.int64),
            # no item master: only the "" of the position -1 (an unknown item)
            names.item_text["unit"] if len(names.items) else np.array([""], dtype=object),
            codes)
    units: supply.PlacingUnits = kept["units"]
    refs = cov["ref"].to_numpy(dtype=object) if "ref" in cov else np.zeros(0, object)
    own = cov_items if cov_items is not None else np.full(len(cov), -1, np.int64)
    placing: supply.Placing = kept_while_equal(kept, "coverage", refs,
                                               lambda _: units.placing(cov, own))
    return placing


def _in_message_order(part: pd.DataFrame) -> list[pd.DataFrame]:
    """A rule's frame in message order: one piece per severity (in :data:`SEVERITIES`
    order, an unknown one last), each in the stable order of its elements' texts
    (:func:`_text_rank`)."""
    if not len(part):
        return []
    severity = part["severity"].to_numpy(dtype=object)
    first = severity[0]
    kinds = [first] if bool((severity == first).all()) else list(pd.unique(severity))
    ranks = {v: i for i, v in enumerate(SEVERITIES)}
    kinds.sort(key=lambda v: ranks.get(v, len(SEVERITIES)))
    order = np.argsort(part["element"].to_numpy(dtype=str), kind="stable")
    if len(kinds) == 1:
        return [part.iloc[order].reset_index(drop=True)]
    return [part.iloc[order[severity[order] == v]].reset_index(drop=True) for v in kinds]


def _text_rank(elements: pd.Series) -> np.ndarray:
    """Per element its position in a stable sort of the texts (as fixed-width unicode:
    compared in C): equal elements rank in their order."""
    by_text = np.argsort(elements.to_numpy(dtype=str), kind="stable")
    rank = np.empty(len(by_text), np.int64)
    rank[by_text] = np.arange(len(by_text))
    return rank


def _item_rows(names: _NameTables, items: pd.Series) -> np.ndarray:
    """Per item code its row in the item master's name tables (-1: unknown or missing), as
    :func:`_add_names` finds it."""
    values = items.to_numpy(dtype=object) if isinstance(items, pd.Series) else items
    found, distinct = pd.factorize(values)  # each code looked up once; missing: -1
    return np.append(names.items.get_indexer(distinct), -1)[found].astype(np.int64)


def _coverage_items(kept: dict[Any, Any], names: _NameTables, cov: pd.DataFrame
                    ) -> np.ndarray:
    """:func:`_item_rows` of the firm coverage's items, made again only when they differ
    from the last ones (compared by value: the same objects on a later plan)."""
    items = cov["item"].to_numpy(dtype=object) if "item" in cov else np.zeros(0, object)
    result: np.ndarray = kept_while_equal(kept, "coverage", items,
                                          lambda v: _item_rows(names, v))
    return result


def _one_frame_per_group(group: np.ndarray, lengths: list[int]) -> bool:
    """Whether every frame of ``lengths`` (consecutive in ``group``) has one group, and no
    two frames the same."""
    if not lengths:
        return True
    starts = np.cumsum([0, *lengths[:-1]])
    low, high = np.minimum.reduceat(group, starts), np.maximum.reduceat(group, starts)
    return bool((low == high).all()) and len(np.unique(low)) == len(low)


def _pending_elements(lines: pd.DataFrame) -> np.ndarray:
    """The elements (``pending:REQ/1``) of the open PO lines a pending ``order`` decision
    will place (:mod:`workbench.analysis.overlay`); read once per set of lines."""
    placed = lines[(lines["source"] == "overlay").to_numpy(bool)] if "source" in lines else lines
    pending = placed["purchase_order"].astype(str).str.startswith(PENDING_ORDER).to_numpy(bool)
    if not pending.any():
        return np.zeros(0, object)
    orders = placed["purchase_order"].astype(str).to_numpy()[pending]
    result: np.ndarray = orders + "/" + placed["line"].astype(str).to_numpy()[pending]
    return result


def _on_pending_orders(messages: pd.DataFrame, elements: np.ndarray) -> None:
    """Messages on the line a pending ``order`` decision will place (``elements``,
    :func:`_pending_elements`) say so in their reason: the advice conflicts with the
    buyer's decision on requisition REQ, which stays as it is (in place)."""
    if not len(elements) or not len(messages):
        return
    hit = messages["element"].isin(elements).to_numpy()
    codes = messages.loc[hit, "element"].str.removeprefix(PENDING_ORDER).str.rsplit(
        "/", n=1).str[0]
    messages.loc[hit, "reason"] = (messages.loc[hit, "reason"] + "; this is the order the "
                                   "pending decision on requisition " + codes + " will place "
                                   "(not written back yet): the advice conflicts with it")


def name_messages(messages: pd.DataFrame, data: PlanningData,
                  site_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``messages`` with :data:`NAME_COLUMNS`: item description, unit, planner and buyer from
    the item master, site and supplier names (empty where unknown)."""
    out = messages.copy()
    _add_names(out, data, site_names)
    return out


def _name_tables(data: PlanningData) -> _NameTables:
    result: _NameTables = data.derived("exceptions.names", (data.items, data.suppliers),
                                       lambda: _NameTables.of(data))
    return result


def _add_names(out: pd.DataFrame, data: PlanningData,
               site_names: Mapping[str, str] | None,
               item_rows: np.ndarray | None = None) -> None:
    """:func:`name_messages` in place; ``item_rows``: each message's row in the item
    master's name tables (:func:`_item_rows`) when the caller knows them."""
    names = _name_tables(data)
    if item_rows is None and len(names.items):
        item_rows = _item_rows(names, out["item"])
    for column in ("item_description", "unit", "planner", "buyer"):
        # the tables end with "": the row -1 of an unknown or missing code
        out[column] = str_array(names.item_text[column][item_rows]) \
            if item_rows is not None else ""
    supplier, distinct = pd.factorize(out["supplier"].to_numpy(object))
    out["supplier_name"] = (str_array(np.append(
        names.supplier_text[names.suppliers.get_indexer(distinct)], "")[supplier])
        if len(names.suppliers) else "")
    site, distinct = pd.factorize(out["site"].to_numpy(object))
    named = pd.Series(distinct, dtype=object).map(dict(site_names or {})).astype(object)
    out["site_name"] = str_array(
        np.append(named.fillna("").astype(str).to_numpy(dtype=object), "")[site])


@dataclass(frozen=True)
class _NameTables:
    """The item master's and suppliers' texts the name columns read, per data load: codes as
    indexes (first row of a code kept), each text column as an object array ("" where
    missing) with one more "" at the end (the position -1 of an unknown code)."""

    items: pd.Index
    item_text: dict[str, np.ndarray]
    suppliers: pd.Index
    supplier_text: np.ndarray

    @classmethod
    def of(cls, data: PlanningData) -> _NameTables:
        items = data.items.drop_duplicates("code")
        suppliers = data.suppliers.drop_duplicates("code")
        every = np.arange(len(items))
        text = {column: _taken(items[source], every) if len(items) else np.zeros(0, object)
                for column, source in (("item_description", "description"),
                                       ("unit", "stock_uom"), ("planner", "planner"),
                                       ("buyer", "buyer"))}
        return cls(pd.Index(items["code"]), text, pd.Index(suppliers["code"]),
                   _taken(suppliers["name"], np.arange(len(suppliers)))
                   if len(suppliers) else np.zeros(0, object))


def _taken(values: pd.Series, at: np.ndarray) -> np.ndarray:
    """``values`` at positions ``at`` as text, "" where ``at`` is -1 or the value is missing
    (and one more "" at the end, for the position -1 of a missing code)."""
    found: np.ndarray = np.full(len(at), None, dtype=object)
    if len(values):
        found[at >= 0] = values.to_numpy(dtype=object)[at[at >= 0]]
    text = pd.Series(found, dtype=object).fillna("").astype(str)
    return np.append(text.to_numpy(dtype=object), "")
