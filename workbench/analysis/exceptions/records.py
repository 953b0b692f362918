"""E15: source data that cannot be right (docs/exceptions.md), for the data steward.

Checks, one message per record (its problems joined): negative stock (the model refuses it
from every connector; a hand-edited cache can still hold it); a PO line received beyond its
ordered quantity; a work order completed beyond its quantity; a PO line promised before its
order's order date; stock, a demand, an order or a PO line of an item the item master does not
hold. The element is ``entity:key``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from workbench.analysis.bom import ItemIndex
from workbench.analysis.data import NO_DATE, PlanningData, column_codes, day_numbers
from workbench.analysis.sources import EPS

from .kinds import frame


def _inv_key(f: pd.DataFrame) -> pd.Series:
    return f["item"] + "@" + f["site"] + "/" + f["location"] + "/" + f["lot"] + "/" + f["status"]


def _pol_key(f: pd.DataFrame) -> pd.Series:
    return f["purchase_order"] + "/" + f["line"].astype(str)


def _code(f: pd.DataFrame) -> pd.Series:
    return f["code"]


def _found(entity: str, rows: pd.DataFrame, key: Callable[[pd.DataFrame], pd.Series],
           mask: np.ndarray, problem: str) -> pd.DataFrame:
    """The records of ``rows`` flagged in ``mask`` (keys built for those only)."""
    hit = rows[mask]
    return pd.DataFrame({"element": (entity + ":" + key(hit)).to_numpy(dtype=object),
                         "item": hit["item"].to_numpy(), "site": hit["site"].to_numpy(),
                         "problem": problem})


class _Master:
    """Is a code in the item master? The item numbering planning keeps per load
    (:class:`~workbench.analysis.bom.ItemIndex`) numbers the master's distinct codes first, in
    their order (``items.code`` is the first of its columns): a code is in the master when its
    number is below their count, looked up in the numbering's table (hashed once per load)
    instead of a table of the master's codes built again (0.03 s on the large demo). When
    ``items`` does not start with the master's codes (not this data's numbering), the master's
    own codes are hashed, as before."""

    def __init__(self, data: PlanningData, items: ItemIndex | None):
        distinct = np.asarray(column_codes(data, "items", "code")[1], dtype=object)
        self.n = len(distinct)
        codes = None if items is None else np.asarray(items.codes, dtype=object)
        self.items = items if codes is not None and len(codes) >= self.n and \
            bool(np.all(codes[:self.n] == distinct)) else None
        self.master = None if self.items is not None else pd.Index(distinct)

    def missing(self, codes: np.ndarray) -> np.ndarray:
        if self.items is not None:
            number = self.items.index.get_indexer(codes)  # its table is hashed already
            return (number < 0) | (number >= self.n)
        assert self.master is not None
        return self.master.get_indexer(codes) < 0


def _unknown(data: PlanningData, entity: str, master: _Master) -> np.ndarray:
    """Per row of ``entity``: is its item missing from the item master (:class:`_Master`)?
    Judged once per distinct code, on the numbering planning keeps per load
    (:func:`column_codes`)."""
    ids, distinct = column_codes(data, entity, "item")
    missing = master.missing(np.asarray(distinct, dtype=object))
    return missing[ids] if len(ids) else np.zeros(0, bool)


def data_problems(data: PlanningData, items: ItemIndex | None = None) -> pd.DataFrame:
    """E15 (module doc); ``items``: the plan's item numbering of ``data`` when the caller has it
    (the item master is then read from it, see :class:`_Master`)."""
    inv, pol, wo, dem = data.inventory, data.purchase_order_lines, data.work_orders, data.demands
    known = data.items["code"]
    orders = data.purchase_orders.drop_duplicates("code").set_index("code")["order_date"]
    ordered = day_numbers(orders.reindex(pol["purchase_order"].to_numpy()).to_numpy())
    promised = day_numbers(pol["promised_date"])
    parts = [
        _found("inventory", inv, _inv_key, (inv["quantity"] < -EPS).to_numpy(),
               "negative stock"),
        _found("purchase_order_lines", pol, _pol_key,
               (pol["quantity_received"] > pol["quantity_ordered"] + EPS).to_numpy(),
               "received more than ordered"),
        _found("work_orders", wo, _code,
               (wo["completed_quantity"] > wo["quantity"] + EPS).to_numpy(),
               "completed more than its quantity"),
        _found("purchase_order_lines", pol, _pol_key,
               (ordered != NO_DATE) & (promised != NO_DATE) & (promised < ordered),
               "promised before its order date"),
    ]
    if len(known):
        master = _Master(data, items)
        for entity, frame_, key in (("inventory", inv, _inv_key),
                                    ("purchase_order_lines", pol, _pol_key),
                                    ("work_orders", wo, _code), ("demands", dem, _code)):
            parts.append(_found(entity, frame_, key, _unknown(data, entity, master),
                                "item not in the item master"))
    found = pd.concat(parts, ignore_index=True)
    grouped = found.groupby("element", sort=True).agg(
        item=("item", "first"), site=("site", "first"),
        reason=("problem", lambda p: "; ".join(dict.fromkeys(p))))
    return frame("data_problem", len(grouped), {
        "element": grouped.index.to_numpy(), "element_type": "record",
        "item": grouped["item"].to_numpy(), "site": grouped["site"].to_numpy(),
        "reason": grouped["reason"].to_numpy()})
