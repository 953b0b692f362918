"""The buyer's approval queue as the Approvals panel shows it: open recommendations with their
requisition, and their evidence as lines a buyer reads; and a write-back conflict as the buyer
compares it (our decision beside the source's record now).

Several buyers at once (issue 17 §2): each queue row carries its requisition's
``decision_version`` as the queue was read; the panel decides with it as ``expected_version``,
so a requisition another buyer decided since the queue was shown is refused with a
:class:`~workbench.services.decisions.DecisionConflict` naming that buyer's decision
(:func:`conflict_text`), never stored over it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from workbench.cache.decisions import DecisionStore
from workbench.cache.readmodels import open_recommendations


def approval_queue(engine: Engine) -> pd.DataFrame:
    """Open recommendations with their requisition (item, site, buyer, quantity, need date):
    the columns of :func:`workbench.cache.readmodels.open_recommendations`, plus ``supplier``
    (the proposed one, else the requisition's suggested one), ``quantity_change``
    (proposed minus the requisition's quantity) and ``decision_version`` (the requisition's
    decision version now: what a decision on the row expects)."""
    frame = open_recommendations(engine)
    if len(frame):
        frame["supplier"] = frame["proposed_supplier"].fillna("").where(
            frame["proposed_supplier"].fillna("") != "", frame["suggested_supplier"].fillna(""))
        frame["quantity_change"] = frame["proposed_quantity"] - frame["quantity"]
        with engine.connect() as conn:
            versions = DecisionStore(conn).versions(None, frame["requisition"].astype(str))
        frame["decision_version"] = [versions.get(str(r), 0) for r in frame["requisition"]]
    else:
        frame["supplier"] = pd.Series(dtype=str)
        frame["quantity_change"] = pd.Series(dtype=float)
        frame["decision_version"] = pd.Series(dtype=int)
    return frame


def conflict_text(conflict: Any) -> str:
    """What the Approvals panel says when another buyer decided first: their decision (who,
    login, role, when, what) and that the buyer's own was not stored."""
    from workbench.services.decisions import describe

    return (f"Not stored: {conflict.target} was decided meanwhile by "
            f"{describe(conflict.theirs)}. Yours was {describe(conflict.ours)}. "
            "The queue is reloaded: look at their decision, then decide again.")


#: the evidence table's columns: (key, header); quantities in the item's stock unit
COVERAGE_HEADERS = (
    ("period", "Need by"), ("required", "Required"), ("from_stock", "Stock"),
    ("from_open_orders", "Open orders"), ("from_earlier_requisitions", "Earlier req."),
    ("from_this_requisition", "This req."), ("still_short", "Still open"),
)
#: what each of those columns means (the table's tooltips)
COVERAGE_TIPS = {
    "period": "The need date (safety stock: kept from the first week; total: every line)",
    "required": "Requirement of the line = the columns to its right added up",
    "from_stock": "Covered by available stock",
    "from_open_orders": "Covered by open purchase-order lines, work orders and stock in transit",
    "from_earlier_requisitions": "Taken by open requisitions of the item needed earlier",
    "from_this_requisition": "Taken by this requisition",
    "still_short": "Not covered up to this requisition (later requisitions, or nobody)",
}
#: evidence keys shown in the table or the facts lines (not repeated as "other facts")
_SHOWN = {"item", "site", "unit", "description", "coverage", "basis", "covered_needs",
          "open_needs", "requisition_quantity", "need_date", "supplier", "supplier_name",
          "supplier_expected_slip_days", "supplier_lead_time_days", "covered_quantity", "excess",
          "order_quantity", "date_change", "lead_time", "needs_supplier_confirmation",
          "on_hand", "on_order", "first_shortage_date", "pegged_demands", "alternate",
          "alternates_checked", "held_by", "raised_again", "uncovered_quantity"}


def _evidence(evidence: str | dict[str, Any] | None) -> dict[str, Any]:
    return json.loads(evidence) if isinstance(evidence, str) and evidence else dict(evidence or {})


def coverage_frame(evidence: str | dict[str, Any] | None) -> pd.DataFrame:
    """The evidence table of a recommendation (see :mod:`workbench.analysis.coverage`): one row
    per need date, safety stock, later needs and the total; every row adds up."""
    rows = _evidence(evidence).get("coverage") or []
    frame = pd.DataFrame(rows, columns=[k for k, _ in COVERAGE_HEADERS])
    frame["period"] = frame["period"].astype(str)
    return frame.reset_index(names="line")


def evidence_facts(evidence: str | dict[str, Any] | None) -> list[str]:
    """The figures an advice rests on, as sentences with names and units (no keys or ids): the
    quantities, then what was changed and why, then the demands and the buyers' earlier say, then
    any other figure by its name."""
    e = _evidence(evidence)
    unit = f" {e['unit']}" if e.get("unit") else ""
    lines = [*_quantity_facts(e, unit), *_change_facts(e, unit), *_history_facts(e)]
    for key, value in e.items():
        if key not in _SHOWN:
            lines.append(f"{key.replace('_', ' ')}: "
                         f"{_shown(value) if isinstance(value, float) else value}")
    return lines


def _quantity_facts(e: dict[str, Any], unit: str) -> list[str]:
    """The requisition (supplier, lead time, slip), what it covers, what is uncovered, the stock."""

    def q(key: str) -> str:
        return f"{_shown(float(e[key]))}{unit}"

    lines: list[str] = []
    if "requisition_quantity" in e:
        name = f" {e['supplier_name']}" if e.get("supplier_name") else ""
        who = f", supplier {e['supplier']}{name}" if e.get("supplier") else ""
        lead = e.get("supplier_lead_time_days")
        extra = [f"lead time {lead} days" if lead else "",
                 f"expected slip {float(e['supplier_expected_slip_days']):.1f} days"
                 if e.get("supplier_expected_slip_days") else ""]
        extra_text = "; ".join(x for x in extra if x)
        lines.append(f"Requisition: {q('requisition_quantity')} needed {e.get('need_date')}{who}"
                     + (f" ({extra_text})" if extra_text else "") + ".")
    if "covered_quantity" in e:
        lines.append(f"It covers {q('covered_quantity')} of the net requirement; "
                     f"{q('excess')} of it would be excess." if "excess" in e
                     else f"It covers {q('covered_quantity')} of the net requirement.")
    if "uncovered_quantity" in e:
        lines.append(f"Needed beyond every open PO and requisition (uncovered quantity): "
                     f"{q('uncovered_quantity')}.")
    if "on_hand" in e:
        first = e.get("first_shortage_date")
        lines.append(f"Stock on hand {q('on_hand')}, on open POs {q('on_order')}"
                     + (f"; first shortage {first}." if first else "; no shortage."))
    return lines


def _change_facts(e: dict[str, Any], unit: str) -> list[str]:
    """Rounding to an order quantity, a date moved, the lead-time warning, the alternates."""
    lines: list[str] = []
    rounding = e.get("order_quantity")
    if rounding:
        lines.append(f"Order quantity: {_shown(rounding['needed'])} needed, rounded up to "
                     f"{_shown(rounding['quantity'])}{unit} for "
                     + "; ".join(rounding["rounded_for"]) + ".")
    move = e.get("date_change")
    if move:
        verb = "Pulled in" if move["kind"] == "pull_in" else "Deferred"
        lines.append(f"{verb} {abs(int(move['days']))} days: from {move['from']} to "
                     f"{move['to']}.")
    lead = e.get("lead_time")
    if e.get("needs_supplier_confirmation") and lead:
        lines.append(f"⚠ Needs the supplier's confirmation: inside {lead['of']} of "
                     f"{lead['days']} days (ordered today it arrives {lead['earliest']}).")
    alt = e.get("alternate")
    if alt:
        lines.append(f"Alternate {alt['item']}: {_shown(float(alt['quantity']))} from free "
                     f"stock" + (f" ({_shown(float(alt['free_quantity']))} free by "
                                 f"{alt['free_by']})" if "free_quantity" in alt else "") + ".")
    for a in e.get("alternates_checked") or []:
        lines.append(f"Alternate {a['item']} not used: {a['reason']}.")
    return lines


def _history_facts(e: dict[str, Any]) -> list[str]:
    """The demands the advice is for, and a buyer's earlier decision holding it back or raising
    it again."""
    lines: list[str] = []
    pegs = e.get("pegged_demands") or []
    if pegs:
        names = ", ".join(f"{p.get('peg')} ({_shown(float(p.get('quantity', 0)))})"
                          for p in pegs[:5])
        lines.append(f"For demands: {names}" + (" …" if len(pegs) > 5 else "") + ".")
    for key, verb in (("held_by", "Held back"), ("raised_again", "Raised again")):
        note = e.get(key)
        if note:
            lines.append(f"{verb}: {note['decided_by'] or 'a buyer'} chose {note['verdict']} on "
                         f"{str(note['decided_at'])[:16].replace('T', ' ')}"
                         + (f" (“{note['comment']}”)" if note.get("comment") else "")
                         + (f"; since then {note['changed']}." if note.get("changed") else
                            "; nothing material changed since."))
    return lines


def evidence_text(reason: str, evidence: str | dict[str, Any] | None) -> str:
    """The reason and the facts of :func:`evidence_facts`, as the evidence pane shows them."""
    return "\n".join([reason or "", "", *evidence_facts(evidence)]).strip()


#: how the two sides of a conflict line up: our request's field, then the record's field naming
#: the same thing (the canonical requisition names, which the demo's report and the cache use)
CONFLICT_PAIRS = (
    ("Quantity", "quantity", "quantity"),
    ("Need date", "date", "need_date"),
    ("Supplier", "supplier", "suggested_supplier"),
    ("Item", "item", "item"),
    ("Record version", "base_version", "version"),
)


@dataclass(frozen=True)
class ConflictLine:
    """One line of a conflict as a buyer compares it. ``differs``: both our decision and the
    source name a value and they are not the same (our empty field means "leave it as it is").
    ``changed_in_source``: the source's value is not the one the cache holds (the analysis saw
    the cache, so this is what someone changed there, unless a sync brought it since)."""

    label: str
    cached: str
    ours: str
    theirs: str
    differs: bool
    changed_in_source: bool


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def _label(key: str) -> str:
    return "Unit" if key == "uom" else key.replace("_", " ").capitalize()


def conflict_lines(conflict: str | Mapping[str, Any] | None,
                   cached: Mapping[str, Any] | None = None) -> list[ConflictLine]:
    """The record as the cache holds it, our decision and the source's current record, field by
    field: what we asked for, then the paired fields, then whatever else the source reports
    (nothing is hidden). ``cached`` uses the canonical names (see ``writeback.cached_records``)."""
    data = json.loads(conflict) if isinstance(conflict, str) else dict(conflict or {})
    ours, theirs = dict(data.get("ours") or {}), dict(data.get("theirs") or {})
    cache = dict(cached or {})

    # our quantity and the cache's are in the item's stock unit; the source may report another
    # unit (its "Unit" line shows it): quantities in different units are not compared
    units_differ = bool(cache.get("uom") and theirs.get("uom")
                        and cache["uom"] != theirs["uom"])

    def line(label: str, mine: Any, key: str | None, now: Any) -> ConflictLine:
        was = _shown(cache.get(key)) if key else ""
        mine_text, now_text = _shown(mine), _shown(now)
        comparable = now is not None and not (key == "quantity" and units_differ)
        return ConflictLine(label, was, mine_text, now_text,
                            differs=bool(comparable and mine_text and mine_text != now_text),
                            changed_in_source=bool(comparable and was and was != now_text))

    lines = [line("Action", ours.pop("action", None), None, None)]
    for label, our_key, key in CONFLICT_PAIRS:
        if our_key in ours or key in theirs:
            lines.append(line(label, ours.pop(our_key, None), key, theirs.pop(key, None)))
    lines += [line(_label(k), ours[k], None, None) for k in sorted(ours)]
    lines += [line(_label(k), None, k, theirs[k]) for k in sorted(theirs)]
    return lines
