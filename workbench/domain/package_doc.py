"""Generates docs/data-package.md — the column reference of the canonical data package — from
the canonical model, so the documentation cannot drift from what the importer accepts.

Run ``python -m workbench.domain.package_doc > docs/data-package.md``; a test checks it is current.
"""

from __future__ import annotations

import enum
import typing

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from workbench.domain.models import ENTITY_MODELS, REFERENCES

#: How planning reads a column, where the type and range do not say it (docs/planning.md has the
#: formulas with worked examples).
COLUMN_NOTES: dict[tuple[str, str], str] = {
    ("bom_lines", "scrap_pct"): "component scrap: per parent unit planning issues "
                                "`quantity_per × (1 + scrap_pct / 100)`",
    ("items", "min_order_qty"): "a planned order is at least this, then rounded up to "
                                "`order_multiple`; fixed lot F: both = F",
    ("demands", "priority"): "lower first: pegging serves a bucket's requirements by due date, "
                             "then priority, then code",
    ("purchase_order_lines", "asn_date"): "ship notice's expected arrival: the risk-adjusted "
                                          "plan receives `asn_quantity` then, unslipped",
}


def _type_text(annotation: typing.Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if args and type(None) in args:
        return _type_text(next(a for a in args if a is not type(None)))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    names = {"str": "text", "int": "integer", "float": "number", "date": "date (YYYY-MM-DD)",
             "datetime": "date-time (YYYY-MM-DDTHH:MM:SS)"}
    return names.get(getattr(annotation, "__name__", ""), str(annotation))


def _constraints(info: FieldInfo) -> str:
    out = []
    for m in info.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("lt", "<"), ("le", "≤")):
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sym} {v}")
    return ", ".join(out)


def render() -> str:
    lines = [
        "# The canonical data package",
        "",
        "A folder of UTF-8 CSV files, one per entity, named `<entity>.csv`. The header row names",
        "the columns below (any order; optional columns may be left out). An empty cell means the",
        "default. Quantities are in the unit named by `uom` (empty: the item's stock unit); the",
        "cache converts them to the stock unit and keeps the original figure and unit.",
        "`source`, `source_key` and `source_version` are optional: they identify where a record",
        "came from (an export keeps them, so a package round-trips exactly).",
        "",
        "Load one with `workbench sync --package DIR` (add `--partial` to keep the good rows when",
        "some are rejected); write one with `workbench export --package DIR`. Rejected rows are",
        "reported as `file, row N: entity 'key', field F: reason`; row 1 is the header.",
        "Files are loaded in the order below, so references point to entities listed earlier.",
        "How planning reads the numbers (buckets, lead times, lot sizes, scrap, forecast",
        "consumption, risk-adjusted dates) is in [planning.md](planning.md).",
        "",
        "## What a package does to the cache",
        "",
        "- **Each file is the complete set of its entity.** A record that was loaded from the",
        "  package and is no longer in its file is marked deleted at the next sync (a removed PO",
        "  line stops being supply), as for any source that sends complete sets. Only records of",
        "  the same `source` are affected (other sources' records are not the package's to",
        "  delete), and an entity without a file is left as it is. A file with only its header",
        "  row says \"none\": the records loaded under the package's own source name (`files`,",
        "  or the configured source's `source=` option) are deleted. With `--partial` the package",
        "  is a partial (incremental) update instead: records are added and changed, none deleted.",
        "- **A left-out column keeps the cached values.** A row that updates a cached record",
        "  writes only the columns its file has; a new record takes the defaults below. One",
        "  exception: quantities go with their unit, so when a file has any quantity column or",
        "  `uom`, a left-out quantity column is set to its default on every row, and the sync",
        "  says so in a warning naming the columns. `source`, `source_key`, `source_version`",
        "  always go together (left out: the defaults).",
        "- **Nothing is guessed.** Refused before any row is read: a 0-byte file (give the header",
        "  row to say there are no records, or remove the file to leave the entity alone), an",
        "  unknown column, a column named twice. Rejected with file, row and field: a row with",
        "  fewer or more cells than the header, a key already given on an earlier row of the file",
        "  (both rows named), bytes that are not UTF-8, a cell longer than the CSV field limit",
        "  (131,072 characters; the rest of the file is not read), a number that is not finite",
        "  (`inf`, `-inf`, `NaN`) or outside its column's range (quantities, prices and costs",
        "  within ±1e15, conversion factors 1e-12 to 1e12, lead times up to 36,500 days, other",
        "  integers 64-bit). Unless `--partial`, one rejected row loads nothing.",
        "- **Encoding: UTF-8 only** (a byte-order mark is fine). A file saved as cp1252 / Latin-1",
        "  is refused row by row, naming the field, with the advice to save it as \"CSV UTF-8\":",
        "  decoding by guess could silently change text.",
        "- **Changes are found by content.** A file whose SHA-256 is the one of its last load is",
        "  not read again; any edit is read, even one that keeps size and modification time.",
        "- **Formula text.** Exports put a quote before text a spreadsheet would run as a formula",
        "  (starting with `=`, `+`, `-`, `@`, tab or carriage return, or with a quote followed by",
        "  one of those); reading a package removes that one quote, so `'=A1` loads as `=A1`",
        "  and a package round-trips exactly. Rows end with CRLF.",
        "- `workbench export --package DIR` never creates a cache (a mistyped `--cache` is an",
        "  error) and writes into a folder that already holds files only with `--force`.",
        "",
        "<!-- generated by `python -m workbench.domain.package_doc`; do not edit by hand -->",
    ]
    for entity, model in ENTITY_MODELS.items():
        refs = dict(REFERENCES.get(entity, ()))
        lines += ["", f"## `{entity}.csv` — {model.__name__}", ""]
        doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
        if doc and not doc.startswith("Base of"):
            lines += [doc, ""]
        lines += [f"Key: {', '.join(f'`{k}`' for k in model.key_fields)}.", ""]
        lines += ["| column | type | required | default | rule |", "|---|---|---|---|---|"]
        for name, info in model.model_fields.items():
            required = "yes" if info.is_required() else ""
            default = "" if info.default is PydanticUndefined or info.default is None else info.default
            if isinstance(default, enum.Enum):
                default = default.value
            rule = _constraints(info)
            if name in refs:
                rule = (rule + "; " if rule else "") + f"must exist in `{refs[name]}`"
            if name in model.quantity_fields:
                rule = (rule + "; " if rule else "") + "in `uom`, converted to stock unit"
            if (entity, name) in COLUMN_NOTES:
                rule = (rule + "; " if rule else "") + COLUMN_NOTES[(entity, name)]
            lines.append(f"| `{name}` | {_type_text(info.annotation)} | {required} | "
                         f"{'' if default == '' else f'`{default}`'} | {rule} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
