"""Fill an empty Tryton database with a believable plant, over JSON-RPC — for tests, demos and
the benchmark.

What it creates (sizes set by :class:`PlantSize`): a company with an employee, a second
warehouse, suppliers with addresses and lead times, purchasable raw materials with product
supplier records, producible sub-assemblies and finished goods with multi-level BOMs (one
finished good with an old, inactive revision "A" and the current revision "B"; one
sub-assembly with a second, not-yet-default revision), stock on hand (done moves from the
supplier location), confirmed purchases with dated lines (one partly received, one left in
draft), productions in draft and waiting with their input moves, and purchase requests created
the only ways Tryton allows: its stock_supply computation (order points and forecast shortages)
and an approved purchase requisition. A second requisition is left waiting for approval.
Finally one production's inputs are reserved and an internal shipment is on its way between the
warehouses (:mod:`tests.support.tryton.seed_stock`).

Everything is deterministic for a given seed: codes are ``RM-0001`` (raw material), ``SA-001``
(sub-assembly), ``FG-01`` (finished good), ``SUP-01`` (supplier).

Run it against a server: ``python -m tests.support.tryton.seed --url http://127.0.0.1:8000
--database planner --password admin [--raw 4000 --subassemblies 600 --finished 400
--lines-per-bom 20]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from planner_connectors.tryton.rpc import TrytonRPC

from tests.support.tryton.plant_spec import PlantSize, SeedResult
from tests.support.tryton.seed_stock import seed_stock_in_flight

#: product.product rows per create/write call: SQLite re-checks the code constraint with one
#: nested OR per record and overflows its parser stack at about 85 (see the reference notes)
PRODUCT_BATCH = 50


def _chunks(seq: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _one(rpc: TrytonRPC, model: str, domain: list[Any]) -> int:
    ids = rpc.search(model, domain, order=[("id", "ASC")], limit=1)
    if not ids:
        raise RuntimeError(f"the database has no {model} matching {domain}")
    return ids[0]


class PlantSeeder:
    """Creates the plant step by step; each step is a method so tests can reuse pieces."""

    def __init__(self, rpc: TrytonRPC, size: PlantSize, today: dt.date | None = None) -> None:
        self.rpc = rpc
        self.size = size
        self.rng = random.Random(size.seed)
        self.today = today or dt.date.today()
        self.out = SeedResult()

    def run(self) -> SeedResult:
        for step in (
            self.company,
            self.locations,
            self.suppliers,
            self.products,
            self.boms,
            self.stock,
            self.purchases,
            self.productions,
            self.requests,
            self.stock_in_flight,
        ):
            started = time.perf_counter()
            step()
            self.out.timings[step.__name__] = round(time.perf_counter() - started, 2)
        return self.out

    def stock_in_flight(self) -> None:
        seed_stock_in_flight(self.rpc, self.out, self.today)

    # -- organisation ----------------------------------------------------------------------
    def company(self) -> None:
        rpc = self.rpc
        (currency,) = rpc.create(
            "currency.currency",
            [
                {
                    "name": "Euro",
                    "code": "EUR",
                    "symbol": "€",
                    "digits": 2,
                    "rounding": Decimal("0.01"),
                }
            ],
        )
        (party,) = rpc.create(
            "party.party",
            [
                {
                    "name": "Planner Plant",
                    "code": "PLANT",
                    "addresses": [["create", [{"city": "Lyon"}]]],
                }
            ],
        )
        (company,) = rpc.create("company.company", [{"party": party, "currency": currency}])
        user = rpc.user_id
        if user is None:  # the calls above logged in
            raise RuntimeError("the seeding session is not logged in")
        rpc.write("res.user", [user], {"companies": [["add", [company]]], "company": company})
        (emp_party,) = rpc.create("party.party", [{"name": "Bea Buyer", "code": "EMP-BUYER"}])
        (employee,) = rpc.create("company.employee", [{"party": emp_party, "company": company}])
        rpc.write(
            "res.user",
            [user],
            {
                "employees": [["add", [employee]]],
                "employee": employee,
            },
        )
        rpc.login()  # the session context now carries the company
        self.currency = currency
        self.employee = employee
        self.out.company = company
        category = rpc.create("product.category", [{"name": "Goods", "accounting": True}])
        self.account_category = category[0]
        # Purchases are invoiced by hand: no chart of accounts needed. Requests look 60 days ahead.
        config = rpc.search("purchase.configuration", [])
        values = {"purchase_invoice_method": "manual", "supply_period": dt.timedelta(days=60)}
        if config:
            rpc.write("purchase.configuration", config, values)
        else:
            rpc.create("purchase.configuration", [values])
        # Document numbers a planner recognises: PO-0001, MO-0001, RQ-0001.
        prefixes = (("Purchase", "PO-"), ("Production", "MO-"), ("Purchase Requisition", "RQ-"))
        for name, prefix in prefixes:
            ids = rpc.search("ir.sequence", [("name", "=", name)])
            if ids:
                rpc.write("ir.sequence", ids, {"prefix": prefix, "padding": 4})

    def locations(self) -> None:
        rpc = self.rpc
        wh = rpc.search_read(
            "stock.location",
            [("type", "=", "warehouse")],
            ["storage_location", "production_location"],
        )[0]
        self.out.warehouse = wh["id"]
        self.out.storage = wh["storage_location"]
        self.out.production_location = wh["production_location"] or _one(
            rpc, "stock.location", [("type", "=", "production")]
        )
        rpc.write("stock.location", [wh["id"]], {"name": "Main Plant", "code": "WH"})
        zones = rpc.create(
            "stock.location",
            [
                {"name": "East Input", "code": "E-IN", "type": "storage"},
                {"name": "East Output", "code": "E-OUT", "type": "storage"},
                {"name": "East Storage", "code": "E-STO", "type": "storage"},
            ],
        )
        (wh2,) = rpc.create(
            "stock.location",
            [
                {
                    "name": "East Depot",
                    "code": "WH2",
                    "type": "warehouse",
                    "input_location": zones[0],
                    "output_location": zones[1],
                    "storage_location": zones[2],
                    "production_location": self.out.production_location,
                }
            ],
        )
        rpc.write("stock.location", zones, {"parent": wh2})
        self.out.warehouse2 = wh2
        self.out.storage2 = zones[2]
        self.out.unit = _one(rpc, "product.uom", [("symbol", "=", "u")])
        self.kg = _one(rpc, "product.uom", [("symbol", "=", "kg")])
        self.gram = _one(rpc, "product.uom", [("symbol", "=", "g")])
        self.supplier_location = _one(rpc, "stock.location", [("type", "=", "supplier")])

    def suppliers(self) -> None:
        names = [
            "Acme Metals",
            "Borealis Plastics",
            "Castor Electronics",
            "Delta Fasteners",
            "Ecliptic Packaging",
            "Fjord Castings",
            "Gamma Springs",
            "Helix Motors",
        ]
        values = []
        for i in range(1, self.size.suppliers + 1):
            code = f"SUP-{i:02d}"
            values.append(
                {
                    "name": names[(i - 1) % len(names)] + ("" if i <= len(names) else f" {i}"),
                    "code": code,
                    "addresses": [["create", [{"city": "Supplier town"}]]],
                    "supplier_lead_time": dt.timedelta(days=7 + 3 * (i % 5)),
                }
            )
        ids = self.rpc.create("party.party", values)
        self.out.suppliers = {str(v["code"]): i for v, i in zip(values, ids)}

    # -- products and BOMs ----------------------------------------------------------------
    def _template(
        self, code: str, name: str, *, make: bool, uom: int, cost: Decimal
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": name,
            "code": code,
            "type": "goods",
            "default_uom": uom,
            "purchasable": not make,
            "producible": make,
            "list_price": cost * 2,
            "account_category": self.account_category,
            "products": [["create", [{"cost_price": cost}]]],
        }
        if not make:
            values["purchase_uom"] = uom
            sup_codes = list(self.out.suppliers)
            first = self.rng.randrange(len(sup_codes))
            suppliers = [sup_codes[first]]
            if self.rng.random() < 0.3 and len(sup_codes) > 1:  # some items have a second source
                suppliers.append(sup_codes[(first + 1) % len(sup_codes)])
            values["product_suppliers"] = [
                [
                    "create",
                    [
                        {
                            "party": self.out.suppliers[s],
                            "sequence": 10 * (n + 1),
                            "lead_time": dt.timedelta(days=self.rng.choice([5, 10, 14, 21, 28])),
                            "prices": [["create", [{"quantity": 0, "unit_price": cost}]]],
                        }
                        for n, s in enumerate(suppliers)
                    ],
                ]
            ]
        return values

    def products(self) -> None:
        size = self.size
        specs: list[tuple[str, str, bool, int]] = []
        kinds = ["Bracket", "Bolt M8", "Housing", "Gasket", "Sheet 2mm", "Resin", "PCB", "Cable"]
        for i in range(1, size.raw + 1):
            uom = self.kg if i % 8 == 6 else self.out.unit  # resins are bought by the kilogram
            specs.append((f"RM-{i:04d}", f"{kinds[i % len(kinds)]} {i}", False, uom))
        for i in range(1, size.subassemblies + 1):
            specs.append((f"SA-{i:03d}", f"Sub-assembly {i}", True, self.out.unit))
        for i in range(1, size.finished + 1):
            specs.append((f"FG-{i:02d}", f"Finished good {i}", True, self.out.unit))
        for chunk in _chunks(specs, PRODUCT_BATCH):
            values = [
                self._template(
                    code, name, make=make, uom=uom, cost=Decimal(self.rng.randint(50, 5000)) / 100
                )
                for code, name, make, uom in chunk
            ]
            self.rpc.create("product.template", values)
        rows = self.rpc.search_read("product.product", [], ["code"])
        self.out.products = {r["code"]: r["id"] for r in rows}
        self.uom_of = {code: uom for code, _n, _m, uom in specs}

    def _bom_values(
        self, parent: str, code: str, name: str, components: list[str], active: bool = True
    ) -> dict[str, Any]:
        p = self.out.products
        inputs = []
        for comp in components:
            uom = self.uom_of[comp]
            if uom == self.kg and self.rng.random() < 0.5:
                inputs.append(
                    {
                        "product": p[comp],
                        "quantity": float(self.rng.choice([250, 500])),
                        "unit": self.gram,
                    }
                )  # a line in grams of a kilogram item
            else:
                inputs.append(
                    {"product": p[comp], "quantity": float(self.rng.randint(1, 6)), "unit": uom}
                )
        return {
            "name": name,
            "code": code,
            "inputs": [["create", inputs]],
            "outputs": [
                [
                    "create",
                    [
                        {"product": p[parent], "quantity": 1.0, "unit": self.out.unit},
                    ],
                ]
            ],
        }

    def boms(self) -> None:
        size, rng = self.size, self.rng
        raws = [c for c in self.out.products if c.startswith("RM-")]
        subs = [c for c in self.out.products if c.startswith("SA-")]
        fgs = [c for c in self.out.products if c.startswith("FG-")]
        plan: list[tuple[str, dict[str, Any], int]] = []  # parent, bom values, sequence
        for sa in subs:
            comps = rng.sample(raws, min(size.lines_per_bom, len(raws)))
            plan.append((sa, self._bom_values(sa, f"{sa}/A", f"{sa} rev A", comps), 10))
        for fg in fgs:
            n_sub = max(1, min(len(subs), size.lines_per_bom // 3))
            comps = rng.sample(subs, n_sub) + rng.sample(raws, max(0, size.lines_per_bom - n_sub))
            plan.append((fg, self._bom_values(fg, f"{fg}/B", f"{fg} rev B", comps), 10))
        # FG-01 also keeps its retired revision A; SA-001 has a revision B not yet the default.
        fg1, sa1 = fgs[0], subs[0]
        old = [c for c in rng.sample(raws, min(size.lines_per_bom, len(raws)))]
        plan.append((fg1, self._bom_values(fg1, f"{fg1}/A", f"{fg1} rev A", old), 20))
        newer = rng.sample(raws, min(size.lines_per_bom, len(raws)))
        plan.append((sa1, self._bom_values(sa1, f"{sa1}/B", f"{sa1} rev B", newer), 20))
        links = []
        for chunk in _chunks(plan, 50):
            ids = self.rpc.create("production.bom", [values for _p, values, _s in chunk])
            for (parent, values, seq), bom in zip(chunk, ids):
                links.append({"product": self.out.products[parent], "bom": bom, "sequence": seq})
                self.out.boms.setdefault(parent, []).append(bom)
                self.out.bom_lines += len(values["inputs"][0][1])
        for chunk in _chunks(links, 500):
            self.rpc.create("product.product-production.bom", list(chunk))
        # Retire revision A of FG-01 (an inactive BOM is read-only, so this comes last).
        self.rpc.write("production.bom", [self.out.boms[fg1][1]], {"active": False})

    # -- stock and supply ------------------------------------------------------------------
    def stock(self) -> None:
        """On-hand stock: done moves from the supplier location into each warehouse's storage."""
        moves: list[dict[str, Any]] = []
        day = self.today - dt.timedelta(days=20)
        for code, pid in self.out.products.items():
            if code.startswith("FG-"):
                continue
            for storage, share in ((self.out.storage, 1.0), (self.out.storage2, 0.25)):
                if storage == self.out.storage2 and self.rng.random() < 0.5:
                    continue
                qty = float(self.rng.randint(5, 200)) * share
                if code.startswith("RM-") and self.rng.random() < 0.2:
                    qty = 2.0  # some materials run low, so stock_supply finds shortages
                moves.append(
                    {
                        "product": pid,
                        "quantity": round(qty),
                        "unit": self.uom_of[code],
                        "from_location": self.supplier_location,
                        "to_location": storage,
                        "planned_date": day,
                        "effective_date": day,
                        "company": self.out.company,
                        "unit_price": Decimal("1.00"),
                        "currency": self.currency,
                    }
                )
        moves = [m for m in moves if m["quantity"] > 0]
        for chunk in _chunks(moves, 500):
            ids = self.rpc.create("stock.move", list(chunk))
            self.rpc.button("stock.move", "do", ids)

    def purchases(self) -> None:
        rpc, rng, out = self.rpc, self.rng, self.out
        raws = [c for c in out.products if c.startswith("RM-")]
        parties = rpc.read("party.party", list(out.suppliers.values()), ["addresses"])
        address = {p["id"]: p["addresses"][0] for p in parties}
        sup_codes = list(out.suppliers)
        values = []
        for n in range(self.size.purchases):
            party = out.suppliers[sup_codes[n % len(sup_codes)]]
            lines = []
            for code in rng.sample(raws, 2 if n == 0 else rng.randint(1, 3)):
                delivery = self.today + dt.timedelta(days=rng.randint(3, 40))
                lines.append(
                    {
                        "product": out.products[code],
                        "quantity": float(rng.randint(10, 100)),
                        "unit": self.uom_of[code],
                        "unit_price": Decimal(rng.randint(100, 900)) / 100,
                        "delivery_date_edit": True,
                        "delivery_date_store": delivery,
                        "description": code,
                    }
                )
            values.append(
                {
                    "party": party,
                    "invoice_address": address[party],
                    "company": out.company,
                    "currency": self.currency,
                    "warehouse": out.warehouse,
                    "invoice_method": "manual",
                    "purchase_date": self.today - dt.timedelta(days=rng.randint(1, 10)),
                    "lines": [["create", lines]],
                }
            )
        out.purchases = rpc.create("purchase.purchase", values)
        draft, to_confirm = out.purchases[-1:], out.purchases[:-1]
        if to_confirm:
            rpc.button("purchase.purchase", "quote", to_confirm)
            rpc.button("purchase.purchase", "confirm", to_confirm)
            # the first purchase's first line arrived already: partly received
            moves = rpc.search_read(
                "stock.move",
                [("purchase", "=", to_confirm[0]), ("state", "=", "draft")],
                ["id"],
                order=[("id", "ASC")],
                limit=1,
            )
            if moves:
                rpc.write("stock.move", [moves[0]["id"]], {"effective_date": self.today})
                rpc.button("stock.move", "do", [moves[0]["id"]])
        del draft

    def productions(self) -> None:
        rpc, out = self.rpc, self.out
        fgs = [c for c in out.products if c.startswith("FG-")]
        boms = rpc.read("production.bom", [out.boms[c][0] for c in fgs], ["inputs", "outputs"])
        inputs_of = {b["id"]: b["inputs"] for b in boms}
        all_inputs = [i for b in boms for i in b["inputs"]]
        lines = {
            r["id"]: r
            for r in rpc.read("production.bom.input", all_inputs, ["product", "quantity", "unit"])
        }
        values = []
        for n in range(self.size.productions):
            fg = fgs[n % len(fgs)]
            bom = out.boms[fg][0]
            qty = float(5 * (n + 1))
            start = self.today + dt.timedelta(days=7 + 5 * n)
            due = start + dt.timedelta(days=3)
            moves = [
                {
                    "product": lines[i]["product"],
                    "quantity": lines[i]["quantity"] * qty,
                    "unit": lines[i]["unit"],
                    "from_location": out.storage,
                    "to_location": out.production_location,
                    "planned_date": start,
                    "company": out.company,
                }
                for i in inputs_of[bom]
            ]
            values.append(
                {
                    "product": out.products[fg],
                    "bom": bom,
                    "quantity": qty,
                    "unit": out.unit,
                    "warehouse": out.warehouse,
                    "location": out.production_location,
                    "company": out.company,
                    "planned_date": due,
                    "planned_start_date": start,
                    "inputs": [["create", moves]],
                    "outputs": [
                        [
                            "create",
                            [
                                {
                                    "product": out.products[fg],
                                    "quantity": qty,
                                    "unit": out.unit,
                                    "from_location": out.production_location,
                                    "to_location": out.storage,
                                    "planned_date": due,
                                    "company": out.company,
                                    "unit_price": Decimal(0),
                                    "currency": self.currency,
                                }
                            ],
                        ]
                    ],
                }
            )
        out.productions = rpc.create("production", values)
        waiting = out.productions[1:]
        if waiting:
            rpc.button("production", "wait", waiting)

    def requests(self) -> None:
        """Purchase requests, made by Tryton itself: stock_supply and an approved requisition."""
        rpc, out, rng = self.rpc, self.out, self.rng
        raws = [c for c in out.products if c.startswith("RM-")]
        points = [
            {
                "product": out.products[c],
                "type": "purchase",
                "company": out.company,
                "location": out.warehouse,
                "min_quantity": 300.0,
                "target_quantity": 400.0,
            }
            for c in raws[: max(2, len(raws) // 8)]
        ]
        rpc.create("stock.order_point", points)
        rpc.run_wizard(
            "stock.supply",
            None,
            [],
            [
                ("create_", {"start": {"warehouses": [out.warehouse]}}),
            ],
        )
        # A requisition approved by the buyer becomes purchase requests at once ...
        pick = rng.sample(raws, 2)
        req = {
            "employee": self.employee,
            "company": out.company,
            "warehouse": out.warehouse,
            "currency": self.currency,
            "description": "Maintenance spares",
            "supply_date": self.today + dt.timedelta(days=30),
            "lines": [
                [
                    "create",
                    [
                        {
                            "product": out.products[c],
                            "quantity": 12.0,
                            "unit": self.uom_of[c],
                            "unit_price": Decimal("4.20"),
                            "supplier": next(iter(out.suppliers.values())),
                        }
                        for c in pick
                    ],
                ]
            ],
        }
        (approved,) = rpc.create("purchase.requisition", [req])
        rpc.button("purchase.requisition", "wait", [approved])
        rpc.button("purchase.requisition", "approve", [approved])
        # ... a second one still waits for approval.
        (waiting,) = rpc.create("purchase.requisition", [{**req, "description": "Trial material"}])
        rpc.button("purchase.requisition", "wait", [waiting])
        out.requisitions = [approved, waiting]
        out.requests = rpc.search("purchase.request", [], order=[("id", "ASC")])


def seed_plant(
    rpc: TrytonRPC, size: PlantSize | None = None, today: dt.date | None = None
) -> SeedResult:
    """Seed an empty (freshly initialised) database; returns what was created."""
    return PlantSeeder(rpc, size or PlantSize(), today).run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--database", required=True)
    p.add_argument("--user", default="admin")
    p.add_argument("--password", required=True)
    p.add_argument("--large", action="store_true", help="the benchmark plant (5,000 products)")
    for name, default in PlantSize().__dict__.items():
        p.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=None, help=f"default {default}"
        )
    args = p.parse_args(argv)
    base = PlantSize.large() if args.large else PlantSize()
    overrides = {k: getattr(args, k) for k in base.__dict__ if getattr(args, k) is not None}
    size = PlantSize(**{**base.__dict__, **overrides})
    rpc = TrytonRPC(args.url, args.database, args.user, args.password, timeout=600)
    try:
        result = seed_plant(rpc, size)
    finally:
        rpc.close()
    print(
        f"{len(result.products)} products, {result.bom_lines} BOM lines, "
        f"{len(result.requests)} purchase requests; seconds per step: {result.timings}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
