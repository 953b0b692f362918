"""``workbench export --package DIR``: write the cache as a canonical data package.

Export only reads a cache: a cache path that holds no cache (a typo) is refused with exit code 3,
never created empty. A folder that already holds files is not overwritten unless ``--force``
is given (an existing package would otherwise be replaced by whatever the cache holds, perhaps
nothing). Each file is written beside its final name and renamed over it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from workbench.cli import CliError, add_common, open_engine, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export", help="write the cache as a canonical data package")
    p.add_argument("--package", metavar="DIR", required=True)
    p.add_argument("--force", action="store_true",
                   help="write into a folder that already holds files (replacing the package files)")
    add_common(p)
    p.set_defaults(func=run)


def existing_cache(cache: Path | str | None) -> Path | str:
    """The cache file ``--cache`` names (default: the user's), which must already exist; a
    PostgreSQL URL as it is (opening it says whether it is a cache)."""
    from workbench.cache.db import default_cache_path

    if isinstance(cache, str):
        return cache

    path = Path(os.path.abspath((cache or default_cache_path()).expanduser()))
    if not path.is_file() or path.stat().st_size == 0:
        raise CliError(f"no cache at {path}: nothing to export (check --cache)", 3)
    return path


def check_target(folder: Path, force: bool) -> None:
    """Refuse a target that is a file, or a folder holding anything, unless forced."""
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{folder} is a file, not a folder for a data package", 2)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise CliError(
            f"{folder} is not empty: add --force to replace the package files in it, "
            "or choose an empty or new folder", 2
        )


def run(args: argparse.Namespace) -> int:
    from workbench.app.packages import export_package
    from workbench.app.runner import InlineRunner

    folder = Path(args.package)
    args.cache = existing_cache(args.cache)
    check_target(folder, args.force)
    written = InlineRunner(open_engine(args)).run(export_package, folder)
    if args.json:
        print_json({"package": args.package, "rows": written})
    else:
        for entity, n in written.items():
            print(f"{entity:24} {n:>9,} rows")
        print(f"written to {args.package}")
    return 0
