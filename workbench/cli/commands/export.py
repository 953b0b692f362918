"""``workbench export --package DIR``: write the cache as a canonical data package."""

from __future__ import annotations

import argparse

from workbench.cli import add_common, open_engine, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export", help="write the cache as a canonical data package")
    p.add_argument("--package", metavar="DIR", required=True)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.services.packages import export_package

    written = export_package(open_engine(args), args.package)
    if args.json:
        print_json({"package": args.package, "rows": written})
    else:
        for entity, n in written.items():
            print(f"{entity:24} {n:>9,} rows")
        print(f"written to {args.package}")
    return 0
