"""``workbench status``: what is cached, from which source, how fresh."""

from __future__ import annotations

import argparse

from workbench.cli import add_common, open_engine, print_json, runner_for


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("status", help="what the cache holds and how fresh it is")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.app.sync import age_text, cache_status

    status = runner_for(open_engine(args)).run(cache_status)
    if args.json:
        print_json(status.to_dict())
        return 0
    print(f"cache {status.path} (schema {status.schema_version})")
    if status.empty:
        print("the cache is empty: run `workbench sync --demo` or `workbench sync --package DIR`")
    for entity, by_source in status.entities.items():
        if by_source:
            parts = ", ".join(f"{n:,} from {src or '?'}" for src, n in sorted(by_source.items()))
            print(f"  {entity:24} {parts}")
    for s in status.sources:
        line = f"source {s.connector}: last run {s.last_run_status} {age_text(s.last_run_at)}"
        line += f", last success {age_text(s.last_success_at)}, {s.runs} runs"
        if s.last_error and s.last_run_status not in ("succeeded", "partial"):
            line += f" — {s.last_error}"
        print(line)
    return 0
