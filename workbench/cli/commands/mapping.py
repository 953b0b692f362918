"""``workbench mapping``: draft and check mapping profiles for plant exports (CSV, XLSX).

``workbench mapping suggest DIR > profile.toml`` drafts a profile by matching the column names
of every file and sheet in DIR to canonical fields; ``workbench mapping check PROFILE DIR``
reads every row through the profile and shows the first rows as canonical records with every
problem found, without touching the cache (exit code 1 when there are problems). A checked
profile is used by a files source: ``workbench sources add NAME files dir=DIR mapping=PROFILE``
then ``workbench sync --source NAME``. The format: docs/mapping.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench.cli import CliError, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("mapping", help="draft and check mapping profiles for plant exports")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    suggest = actions.add_parser("suggest", help="draft a profile from the files' column names")
    suggest.add_argument("folder", type=Path, metavar="DIR")
    check = actions.add_parser("check", help="preview canonical records and list every problem "
                                             "(the cache is not touched)")
    check.add_argument("profile", type=Path, metavar="PROFILE")
    check.add_argument("folder", type=Path, metavar="DIR")
    check.add_argument("--rows", type=int, default=5, help="records shown per entity (default 5)")
    check.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.services.mapping import check_mapping, suggest_profile

    if not args.folder.is_dir():
        raise CliError(f"{args.folder} is not a folder", 2)
    if args.action == "suggest":
        print(suggest_profile(args.folder), end="")
        return 0
    result = check_mapping(args.profile, args.folder, rows=max(args.rows, 0))
    if args.json:
        print_json(result.to_dict())
    else:
        for preview in result.entities:
            print(f"{preview.entity}: {preview.read:,} rows read, {len(preview.rejected):,} rejected")
            for record in preview.records:
                print("  " + json.dumps(record, ensure_ascii=False, default=str))
        for problem in result.problems[:200]:
            print(f"problem: {problem}")
        if len(result.problems) > 200:
            print(f"... and {len(result.problems) - 200} more problems")
        print("ok: no problems" if result.ok else f"{len(result.problems)} problems")
    return 0 if result.ok else 1
