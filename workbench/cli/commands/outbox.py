"""``workbench outbox``: decisions on their way back to the source systems — list, send, retry,
settle conflicts (send ours on the source's current version, or discard ours and keep the
source's), and the audit log of every attempt. Decisions on the demo plant need no configured
source: they go to the demo's ledger beside the cache (see :mod:`workbench.services.sources`).
The operations are :mod:`workbench.app.outbox`'s, run inline; JSON and text are made here."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from workbench.cli import CliError, add_common, open_engine, print_json

if TYPE_CHECKING:
    import pandas as pd

    from workbench.app.runner import InlineRunner
    from workbench.services.settings import SourceConfig


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("outbox", help="list, send and retry decisions queued for write-back")
    p.add_argument(
        "--send",
        action="store_true",
        help="send due entries through the configured sources (passwords from keyring; the demo "
        "plant needs none)",
    )
    p.add_argument("--source", default=None, help="only this configured source (by name)")
    p.add_argument(
        "--retry", type=int, nargs="+", metavar="ID", help="queue failed/conflict entries again"
    )
    p.add_argument(
        "--resend",
        type=int,
        nargs="+",
        metavar="ID",
        help="conflicts: send our decision again on the version the source holds now",
    )
    p.add_argument(
        "--discard",
        type=int,
        nargs="+",
        metavar="ID",
        help="conflicts: keep the source's state, never send ours (the decision stays stored)",
    )
    p.add_argument("--audit", action="store_true", help="show the audit log instead of the entries")
    add_common(p)
    p.set_defaults(func=run)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def run(args: argparse.Namespace) -> int:
    from workbench.app import outbox as ops
    from workbench.app.runner import InlineRunner

    runner = InlineRunner(open_engine(args))
    out = _act(runner, args)
    if args.audit:
        out["audit"] = _records(runner.run(ops.audit_log))
    else:
        out["entries"] = _records(runner.run(ops.outbox_entries).entries)
    if args.json:
        print_json(out)
        return 0
    _print_actions(out)
    if args.audit:
        for a in out["audit"]:  # type: ignore[attr-defined]
            print(
                f"{a['at']} {a['actor']:12} {a['action']:22} {a['target'] or '':28} {a['result']}"
                + (f"  (login {a['workstation_user']}, role {a['db_role']})"
                   if a.get("workstation_user") else "")
            )
        return 0
    for e in out["entries"]:  # type: ignore[attr-defined]
        print(
            f"{e['id']:>5} {e['state']:10} {e['requisition']:14} {e['action']:14} "
            f"tries {e['attempts']}  {e['last_error'] or ''}"
        )
    if not out["entries"]:
        print("the outbox is empty")
    return 0


def _act(runner: InlineRunner, args: argparse.Namespace) -> dict[str, object]:
    """Retry, resend, discard, then send, as the options ask; what each did (JSON-ready)."""
    from workbench.app import outbox as ops

    out: dict[str, object] = {}
    if args.retry:
        out["retried"] = runner.run(ops.retry, args.retry).value
    if args.resend:
        out["resent"] = asdict(runner.run(ops.resend_on_source_version, args.resend).value)
    if args.discard:
        out["discarded"] = asdict(runner.run(ops.discard_conflicts, args.discard).value)
    if args.send:
        from workbench.services.tasks import SimpleState

        state = SimpleState(echo=not args.json and sys.stderr.isatty())
        out["send"] = runner.run(ops.send_pending, _sources(args), state=state).value.to_dict()
    return out


def _sources(args: argparse.Namespace) -> list[SourceConfig]:
    """The configured sources to send through (``--source``: only that one)."""
    from workbench.services.settings import SettingsError, load_settings

    try:
        sources = load_settings().sources
    except SettingsError as exc:
        raise CliError(str(exc), 2) from None
    if args.source:
        sources = [s for s in sources if s.name == args.source]
        if not sources:
            raise CliError(f"no configured source named {args.source!r}", 2)
    return sources


def _print_actions(out: dict[str, object]) -> None:
    if "retried" in out:
        print(f"{out['retried']} entries queued again")
    for key, what in (("resent", "queued on the source's version"), ("discarded", "discarded")):
        if key in out:
            settled = out[key]
            assert isinstance(settled, dict)
            print(f"{len(settled['done'])} entries {what}")
            for reason in settled["skipped"]:
                print(f"  not changed: {reason}")
    if "send" in out:
        sent = out["send"]
        assert isinstance(sent, dict)
        for message in sent["messages"]:
            print(message)
        print(
            ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in sent.items() if k != "messages")
        )
