"""Master data from Tryton: units, warehouses, suppliers, items, BOM revisions and BOM lines.

Mapping (see docs/tryton.md for the planner's view of it):

- ``uoms``: ``product.uom``, code = its symbol; categories Units/Weight/Length/Volume/Surface/Time
  become count/mass/length/volume/area/time (others, e.g. Energy, are not planning units and are
  left out). ``uom_conversions``: every pair of units of a category, from Tryton's factors.
- ``sites``: warehouses (``stock.location`` of type warehouse), code = location code.
- ``suppliers``: parties. Tryton has no "supplier" flag, so every party is offered except the
  companies' own and their employees'; lead time = the party's supplier lead time.
- ``items``: ``product.product`` with its ``product.template`` (read from the template, which is
  several times faster than the variant's delegated fields); make if producible; default supplier
  and lead time from the first product supplier by sequence, or the production lead time.
- ``bom_revisions``: each ``production.bom`` linked to a product
  (``product.product-production.bom``) is a revision of that product, code = the BOM's code.
  The active BOM with the lowest sequence is the one Tryton uses by default: *released*; other
  active BOMs: *draft*; inactive: *obsolete*.
  Tryton has no effectivity dates, so none are sent.
- ``bom_lines``: ``production.bom.input`` per revision; position = the input's Tryton id (stable
  across edits); quantity per one unit of the parent = input quantity / the BOM's output quantity
  of that parent.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planner_connectors.tryton.reading import TRANSLATED_PAGE, Reader, days, m2o, version_of
from workbench.connect.port import Batch

SOURCE = "tryton"
UOM_CATEGORIES = {
    "product.uom_cat_unit": "count",
    "product.uom_cat_weight": "mass",
    "product.uom_cat_length": "length",
    "product.uom_cat_volume": "volume",
    "product.uom_cat_surface": "area",
    "product.uom_cat_time": "time",
}
BOM_MODELS: dict[str, list[Any]] = {"product.product-production.bom": [], "production.bom": []}
BOM_LINE_MODELS: dict[str, list[Any]] = {
    "production.bom.input": [],
    "product.product-production.bom": [],
}
BOM_SNAPSHOT_AGE = 60.0


def code_or_id(code: str | None, model_tag: str, rid: int) -> str:
    """A record's code, or a stable stand-in when Tryton has none (e.g. ``product#12``)."""
    return code.strip() if code and code.strip() else f"{model_tag}#{rid}"


class Units:
    """Tryton units by id: symbol, category and factor (to the category's reference unit)."""

    def __init__(self, reader: Reader) -> None:
        cats = reader.fetch("product.uom.category", [], ["xml_id"], track=False)
        self.category = {c["id"]: UOM_CATEGORIES.get(c.get("xml_id") or "") for c in cats}
        self.rows = reader.fetch(
            "product.uom", [], ["symbol", "name", "category", "factor"], track=False
        )
        self.by_id = {u["id"]: u for u in self.rows}

    def symbol(self, uom_id: int | None) -> str | None:
        row = self.by_id.get(uom_id) if uom_id else None
        return row["symbol"] if row else None

    def convert(self, qty: float, from_id: int, to_id: int) -> float:
        a, b = self.by_id.get(from_id), self.by_id.get(to_id)
        if not a or not b or a["id"] == b["id"] or a["category"] != b["category"]:
            return qty
        return qty * float(a["factor"]) / float(b["factor"])


class Codes:
    """Codes of a model's records by id (products, parties), kept by the connector between
    entities and runs and refreshed whenever those records are pulled."""

    def __init__(self, model: str = "product.product", tag: str = "product") -> None:
        self.model, self.tag = model, tag
        self.codes: dict[int, str] = {}

    def update(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            self.codes[r["id"]] = code_or_id(r.get("code"), self.tag, r["id"])

    def lookup(self, reader: Reader, ids: set[int]) -> dict[int, str]:
        missing = [i for i in ids if i not in self.codes]
        if missing:
            self.update(reader.fetch_ids(self.model, missing, ["code"], track=False))
        return self.codes


@dataclass
class Facts:
    """What several entities need, kept by the connector between pulls: product codes, units
    and warehouses (re-read whenever ``uoms`` / ``sites`` are pulled, which a sync does first)."""

    codes: Codes = field(default_factory=Codes)
    parties: Codes = field(default_factory=lambda: Codes("party.party", "party"))
    #: product id -> its stock unit id, learnt from the items pull
    stock_uom: dict[int, int] = field(default_factory=dict)
    #: the product-BOM links and BOM codes a full revisions pull just read, for the lines pull
    #: that follows it in the same sync (taken at most BOM_SNAPSHOT_AGE seconds ago)
    bom_snapshot: tuple[float, list[dict[str, Any]], dict[int, str]] | None = None
    today: dt.date = field(default_factory=dt.date.today)
    timezone: str = "UTC"
    excluded_parties: set[int] = field(default_factory=set)
    #: whether Tryton's stock_lot module is active (inventory is then split per lot)
    lots: bool | None = None
    _units: Units | None = None
    _sites: dict[int, str] | None = None

    def units(self, reader: Reader, refresh: bool = False) -> Units:
        if self._units is None or refresh:
            self._units = Units(reader)
        return self._units

    def sites(self, reader: Reader, refresh: bool = False) -> dict[int, str]:
        if self._sites is None or refresh:
            rows = reader.fetch(
                "stock.location", [("type", "=", "warehouse")], ["code", "name"], track=False
            )
            self._sites = {r["id"]: code_or_id(r.get("code"), "warehouse", r["id"]) for r in rows}
            self._site_rows = rows
        return self._sites


def pull_uoms(reader: Reader, facts: Facts) -> Iterator[Batch]:
    units = facts.units(reader, refresh=True)
    out = []
    for u in units.rows:
        cat = units.category.get(u["category"])
        if cat:
            out.append(
                {
                    "source": SOURCE,
                    "source_key": f"product.uom,{u['id']}",
                    "source_version": version_of(u["_timestamp"]),
                    "code": u["symbol"],
                    "name": u["name"],
                    "category": cat,
                }
            )
    yield Batch("uoms", out, complete=True)


def pull_uom_conversions(reader: Reader, facts: Facts) -> Iterator[Batch]:
    units = facts.units(reader)
    by_cat: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for u in units.rows:
        if units.category.get(u["category"]):
            by_cat[u["category"]].append(u)
    out = []
    for rows in by_cat.values():
        for a, b in itertools.combinations(sorted(rows, key=lambda r: r["symbol"]), 2):
            out.append(
                {
                    "source": SOURCE,
                    "source_key": f"product.uom,{a['id']}/product.uom,{b['id']}",
                    "source_version": version_of(a["_timestamp"], b["_timestamp"]),
                    "item": "",
                    "from_uom": a["symbol"],
                    "to_uom": b["symbol"],
                    "factor": float(a["factor"]) / float(b["factor"]),
                }
            )
    yield Batch("uom_conversions", out, complete=True)


def pull_sites(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes = facts.sites(reader, refresh=True)
    out = [
        {
            "source": SOURCE,
            "source_key": f"stock.location,{r['id']}",
            "source_version": version_of(r["_timestamp"]),
            "code": codes[r["id"]],
            "name": r["name"] or "",
            "timezone": facts.timezone,
        }
        for r in facts._site_rows
    ]
    yield Batch("sites", out, complete=True)


def pull_suppliers(reader: Reader, facts: Facts) -> Iterator[Batch]:
    models: dict[str, list[Any]] = {"party.party": []}
    full = reader.begin(models)
    domain = [] if full else ["OR", *reader.changed(), *reader.changed("supplier_lead_times.")]
    rows = reader.fetch(
        "party.party", domain, ["code", "name", "supplier_lead_time", "supplier_currency.code"]
    )
    facts.parties.update(rows)
    out = [
        {
            "source": SOURCE,
            "source_key": f"party.party,{r['id']}",
            "source_version": version_of(r["_timestamp"]),
            "code": code_or_id(r.get("code"), "party", r["id"]),
            "name": r.get("name") or "",
            "lead_time_days": days(r.get("supplier_lead_time")),
            "currency": m2o(r, "supplier_currency", "code") or "EUR",
        }
        for r in rows
        if r["id"] not in facts.excluded_parties
    ]
    yield Batch("suppliers", out, watermark=reader.watermark(), complete=full)


def _cost(product: dict[str, Any], company: int | None) -> float:
    """The product's cost price in the session's company (read through ``cost_prices``, which
    is several times faster than the per-record ``cost_price`` field)."""
    for cost in product.get("cost_prices.") or ():
        if cost.get("company") == company and cost.get("cost_price") is not None:
            return float(cost["cost_price"])
    return 0.0


def pull_items(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes, units = facts.codes, facts.units(reader)
    models: dict[str, list[Any]] = {"product.product": []}
    full = reader.begin(models)
    p_fields = ["code", "template", "cost_prices.cost_price", "cost_prices.company"]
    t_fields = ["name", "type", "default_uom", "producible"]
    s_fields = ["template", "product", "party", "lead_time", "sequence"]
    l_fields = ["product", "lead_time", "sequence"]
    if full:
        products, tlist, slist, llist = reader.fetch_each(
            ("product.product", [], p_fields),
            ("product.template", [], t_fields),
            ("purchase.product_supplier", [], s_fields),
            ("production.lead_time", [], l_fields),
        )
    else:
        products = reader.fetch(
            "product.product",
            [
                "OR",
                *reader.changed(),
                *reader.changed("template."),
                *reader.changed("template.product_suppliers."),
                *reader.changed("cost_prices."),
                *reader.changed("production_lead_times."),
            ],
            p_fields,
        )
        tids = sorted({p["template"] for p in products})
        pids = sorted(p["id"] for p in products)
        tlist = reader.fetch("product.template", [("id", "in", tids)], t_fields)
        slist = reader.fetch("purchase.product_supplier", [("template", "in", tids)], s_fields)
        llist = reader.fetch("production.lead_time", [("product", "in", pids)], l_fields)
    codes.update(products)
    templates = {t["id"]: t for t in tlist}
    facts.stock_uom.update(
        (p["id"], templates[p["template"]]["default_uom"])
        for p in products
        if p["template"] in templates
    )
    suppliers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in sorted(
        slist, key=lambda s: (s.get("sequence") is None, s.get("sequence") or 0, s["id"])
    ):
        suppliers[s["template"]].append(s)
    parties = facts.parties.lookup(reader, {s["party"] for s in slist})
    lead: dict[int, dict[str, Any]] = {}
    for row in sorted(llist, key=lambda r: (r.get("sequence") or 0, r["id"]), reverse=True):
        lead[row["product"]] = row  # lowest sequence wins
    company = reader.rpc.context.get("company")
    out = []
    for p in products:
        t = templates.get(p["template"])
        if t is None or t["type"] == "service":
            continue
        make = bool(t["producible"])
        first = next(
            (s for s in suppliers.get(t["id"], ()) if s.get("product") in (None, p["id"])), None
        )
        lt = lead.get(p["id"])
        lead_days = (
            days(lt["lead_time"]) if make and lt else days(first["lead_time"]) if first else 0
        )
        out.append(
            {
                "source": SOURCE,
                "source_key": f"product.product,{p['id']}",
                "source_version": version_of(
                    p["_timestamp"],
                    t["_timestamp"],
                    first["_timestamp"] if first else None,
                    lt["_timestamp"] if lt else None,
                ),
                "code": codes.codes[p["id"]],
                "description": t["name"] or "",
                "stock_uom": units.symbol(t["default_uom"]) or "",
                "make_buy": "make" if make else "buy",
                "lead_time_days": lead_days,
                "standard_cost": _cost(p, company),
                "default_supplier": parties[first["party"]] if first else "",
            }
        )
    yield Batch("items", out, watermark=reader.watermark(), complete=full)


def _links_for(reader: Reader, full: bool, extra_boms: set[int]) -> list[dict[str, Any]]:
    """Product-BOM links to (re)send: all, or those changed plus every link of touched BOMs
    and of their products (a revision's status depends on its siblings)."""
    fields = ["product", "bom", "sequence"]
    if full:
        return reader.fetch("product.product-production.bom", [], fields)
    changed = reader.fetch("product.product-production.bom", reader.changed(), fields)
    boms = {link["bom"] for link in changed} | extra_boms
    products = {link["product"] for link in changed}
    if boms:
        products |= {
            link["product"]
            for link in reader.fetch(
                "product.product-production.bom", [("bom", "in", sorted(boms))], ["product"]
            )
        }
    if not products:
        return []
    return reader.fetch(
        "product.product-production.bom", [("product", "in", sorted(products))], fields
    )


def pull_bom_revisions(reader: Reader, facts: Facts) -> Iterator[Batch]:
    codes = facts.codes
    full = reader.begin(BOM_MODELS)
    changed_boms = (
        set() if full else {b["id"] for b in reader.fetch("production.bom", reader.changed(), [])}
    )
    if full:
        links, bom_rows = reader.fetch_each(
            ("product.product-production.bom", [], ["product", "bom", "sequence"]),
            ("production.bom", [], ["code", "name", "active"], TRANSLATED_PAGE),
        )
    else:
        links = _links_for(reader, full, changed_boms)
        bom_rows = reader.fetch_ids(
            "production.bom", {link["bom"] for link in links}, ["code", "name", "active"]
        )
    boms = {b["id"]: b for b in bom_rows}
    if full:
        facts.bom_snapshot = (
            time.monotonic(),
            links,
            {b["id"]: code_or_id(b.get("code"), "bom", b["id"]) for b in bom_rows},
        )
    names = codes.lookup(reader, {link["product"] for link in links})
    by_product: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for link in links:
        by_product[link["product"]].append(link)
    out = []
    for product, plinks in by_product.items():
        plinks.sort(key=lambda r: (r.get("sequence") is None, r.get("sequence") or 0, r["id"]))
        released = next((r for r in plinks if boms[r["bom"]]["active"]), None)
        for link in plinks:
            bom = boms[link["bom"]]
            status = ("released" if link is released else "draft") if bom["active"] else "obsolete"
            out.append(
                {
                    "source": SOURCE,
                    "source_key": f"production.bom,{bom['id']}",
                    "source_version": version_of(bom["_timestamp"], link["_timestamp"]),
                    "parent": names[product],
                    "revision": code_or_id(bom.get("code"), "bom", bom["id"]),
                    "status": status,
                    "description": bom.get("name") or "",
                }
            )
    yield Batch("bom_revisions", out, watermark=reader.watermark(), complete=full)


def pull_bom_lines(reader: Reader, facts: Facts) -> Iterator[Batch]:
    """BOM lines; in a full pull the inputs stream page by page (the next page is read while
    the sync stores this one), with the watermark on the last batch."""
    units = facts.units(reader)
    full = reader.begin(BOM_LINE_MODELS)
    in_fields = ["bom", "product", "quantity", "unit"]
    out_fields = ["bom", "product", "quantity", "unit"]
    if full:
        snapshot, facts.bom_snapshot = facts.bom_snapshot, None
        if snapshot is not None and time.monotonic() - snapshot[0] < BOM_SNAPSHOT_AGE:
            links, bom_codes = snapshot[1], snapshot[2]
            reader.read_all("product.product-production.bom", links)
            outputs = reader.fetch("production.bom.output", [], out_fields)
        else:
            links, outputs, boms = reader.fetch_each(
                ("product.product-production.bom", [], ["product", "bom"]),
                ("production.bom.output", [], out_fields),
                ("production.bom", [], ["code"]),
            )
            bom_codes = {b["id"]: code_or_id(b.get("code"), "bom", b["id"]) for b in boms}
        pages: Iterator[list[dict[str, Any]]] = reader.pages("production.bom.input", [], in_fields)
    else:
        touched = {b["id"] for b in reader.fetch("production.bom", reader.changed(), [])}
        touched |= {
            o["bom"] for o in reader.fetch("production.bom.output", reader.changed(), ["bom"])
        }
        touched |= {
            link["bom"]
            for link in reader.fetch("product.product-production.bom", reader.changed(), ["bom"])
        }
        domain = ["OR", *reader.changed(), ("bom", "in", sorted(touched))]
        inputs = reader.fetch("production.bom.input", domain, in_fields)
        ids = sorted({i["bom"] for i in inputs} | touched)
        links = reader.fetch(
            "product.product-production.bom", [("bom", "in", ids)], ["product", "bom"]
        )
        outputs = reader.fetch("production.bom.output", [("bom", "in", ids)], out_fields)
        bom_codes = {
            b["id"]: code_or_id(b.get("code"), "bom", b["id"])
            for b in reader.fetch_ids("production.bom", ids, ["code"])
        }
        pages = iter([inputs])
    parents_of: dict[int, list[int]] = defaultdict(list)
    for link in links:
        parents_of[link["bom"]].append(link["product"])
    parent_ids = {p for ps in parents_of.values() for p in ps}
    unknown = parent_ids - facts.stock_uom.keys()
    if unknown:
        facts.stock_uom.update(
            (r["id"], m2o(r, "template", "default_uom"))
            for r in reader.fetch_ids("product.product", unknown, ["template.default_uom"])
        )
    stock_uom = facts.stock_uom
    made: dict[tuple[int, int], float] = defaultdict(float)  # (bom, product) -> output qty
    for o in outputs:
        if o.get("product"):
            made[o["bom"], o["product"]] += units.convert(
                o["quantity"], o["unit"], stock_uom.get(o["product"]) or o["unit"]
            )
    symbols = {u: units.symbol(u) for u in units.by_id}
    parents = facts.codes.lookup(reader, parent_ids)
    # per BOM, what each of its lines becomes once per parent: (parent code, revision, output)
    heads = {
        bom: [(parents[p], bom_codes[bom], made.get((bom, p)) or 1.0) for p in products]
        for bom, products in parents_of.items()
        if bom in bom_codes
    }
    for inputs in pages:
        names = facts.codes.lookup(reader, {i["product"] for i in inputs if i["product"]})
        # one dict per line and parent, no per-row helper calls: tens of thousands of rows
        out = [
            {
                "source": SOURCE,
                "source_key": f"production.bom.input,{i['id']}",
                "source_version": i["_timestamp"],  # one Tryton row: its own version
                "parent": parent,
                "revision": revision,
                "position": i["id"],
                "component": names[i["product"]],
                "quantity_per": i["quantity"] / output,
                "uom": symbols.get(i["unit"]),
            }
            for i in inputs
            if i["product"]  # else a phantom BOM line: not a component of its own
            for parent, revision, output in heads.get(i["bom"], ())
        ]
        yield Batch("bom_lines", out, complete=full)
    yield Batch("bom_lines", [], watermark=reader.watermark(), complete=full)
