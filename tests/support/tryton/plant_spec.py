"""What the Tryton seeding script creates: the plant's size, and the record of what it made.

Kept apart from :mod:`tests.support.tryton.seed` (which does the creating over JSON-RPC) so tests and
the benchmark can describe and compare plants without the seeding steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlantSize:
    suppliers: int = 4
    raw: int = 16
    subassemblies: int = 4
    finished: int = 3
    lines_per_bom: int = 4
    purchases: int = 4
    productions: int = 3
    seed: int = 7

    @classmethod
    def large(cls) -> PlantSize:
        """≥5,000 products and ≥20,000 BOM lines: the benchmark's plant."""
        return cls(
            suppliers=20,
            raw=4000,
            subassemblies=600,
            finished=400,
            lines_per_bom=20,
            purchases=40,
            productions=10,
        )


@dataclass
class SeedResult:
    """Ids and codes of what was created, so tests can compare against known facts."""

    company: int = 0
    warehouse: int = 0
    warehouse2: int = 0
    storage: int = 0
    storage2: int = 0
    production_location: int = 0
    unit: int = 0
    suppliers: dict[str, int] = field(default_factory=dict)  # code -> party id
    products: dict[str, int] = field(default_factory=dict)  # code -> product.product id
    boms: dict[str, list[int]] = field(default_factory=dict)  # product code -> bom ids by sequence
    bom_lines: int = 0
    purchases: list[int] = field(default_factory=list)
    productions: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    requisitions: list[int] = field(default_factory=list)
    shipments: list[int] = field(default_factory=list)  # internal shipments in transit
    timings: dict[str, float] = field(default_factory=dict)
