"""E15: source data that cannot be right (docs/exceptions.md), for the data steward.

Checks, one message per record (its problems joined): negative stock (the model refuses it
from every connector; a hand-edited cache can still hold it); a PO line received beyond its
ordered quantity; a work order completed beyond its quantity; a PO line promised before its
order's order date; stock, a demand, an order or a PO line of an item the item master does not
hold. The element is ``entity:key``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.analysis.data import NO_DATE, PlanningData, day_numbers
from workbench.analysis.sources import EPS

from .kinds import frame


def _found(entity: str, keys: pd.Series, items: pd.Series, sites: pd.Series,
           mask: np.ndarray, problem: str) -> pd.DataFrame:
    return pd.DataFrame({"element": (entity + ":" + keys[mask]).to_numpy(),
                         "item": items[mask].to_numpy(), "site": sites[mask].to_numpy(),
                         "problem": problem})


def data_problems(data: PlanningData) -> pd.DataFrame:
    """E15 (module doc)."""
    inv, pol, wo, dem = data.inventory, data.purchase_order_lines, data.work_orders, data.demands
    known = set(data.items["code"])
    inv_key = inv["item"] + "@" + inv["site"] + "/" + inv["location"] + "/" + inv["lot"] + \
        "/" + inv["status"]
    pol_key = pol["purchase_order"] + "/" + pol["line"].astype(str)
    orders = data.purchase_orders.drop_duplicates("code").set_index("code")["order_date"]
    ordered = day_numbers(pol["purchase_order"].map(orders))
    promised = day_numbers(pol["promised_date"])
    parts = [
        _found("inventory", inv_key, inv["item"], inv["site"],
               (inv["quantity"] < -EPS).to_numpy(), "negative stock"),
        _found("purchase_order_lines", pol_key, pol["item"], pol["site"],
               (pol["quantity_received"] > pol["quantity_ordered"] + EPS).to_numpy(),
               "received more than ordered"),
        _found("work_orders", wo["code"], wo["item"], wo["site"],
               (wo["completed_quantity"] > wo["quantity"] + EPS).to_numpy(),
               "completed more than its quantity"),
        _found("purchase_order_lines", pol_key, pol["item"], pol["site"],
               (ordered != NO_DATE) & (promised != NO_DATE) & (promised < ordered),
               "promised before its order date"),
    ]
    if len(known):
        for entity, keys, frame_ in (("inventory", inv_key, inv),
                                     ("purchase_order_lines", pol_key, pol),
                                     ("work_orders", wo["code"], wo),
                                     ("demands", dem["code"], dem)):
            parts.append(_found(entity, keys, frame_["item"], frame_["site"],
                                ~frame_["item"].isin(known).to_numpy(),
                                "item not in the item master"))
    found = pd.concat(parts, ignore_index=True)
    grouped = found.groupby("element", sort=True).agg(
        item=("item", "first"), site=("site", "first"),
        reason=("problem", lambda p: "; ".join(dict.fromkeys(p))))
    return frame("data_problem", len(grouped), {
        "element": grouped.index.to_numpy(), "element_type": "record",
        "item": grouped["item"].to_numpy(), "site": grouped["site"].to_numpy(),
        "reason": grouped["reason"].to_numpy()})
