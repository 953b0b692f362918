"""``workbench team-sync``: the scheduled sync of a team cache (issue 17 §2), for cron or a
systemd timer (``packaging/systemd/planner-workbench-team-sync.{service,timer}``).

::

    planner-workbench team-sync --cache postgresql://sync@db.plant/planner [--source NAME]...
                                [--send] [--json]

Runs the sync of each configured source (``workbench sources``; every enabled one but ``team``
sources — a workstation's offline copy — unless ``--source`` names some) into the cache, one run
after the other, each as ``workbench sync --source NAME`` runs it (checked first, atomic, the
suppliers' messages after it, sent decisions confirmed). A source that fails does not stop the
next one. ``--send`` then drains the team's outbox once (the decisions the buyers queued,
through the same sources; entries claimed, so a workstation sending at the same time never sends
one twice). Workstations then read the team cache; none of them hits the ERP.

One line per source on stdout (``--json``: one object)::

    erp        ok      run 42  received 1,204  changed 37  deleted 2  4.1 s
    suppliers  failed  the folder /srv/edi does not exist
    outbox     sent 3  conflicts 0  failed 0  waiting 1

A lock (:func:`workbench.cache.joblock.job_lock`: an advisory lock on PostgreSQL, a file lock
beside a SQLite cache) makes sure two runs never overlap, on one machine or several: a run that
finds it held stops at once with exit code 75 and leaves the next timer tick to try again.

Exit codes (also in packaging/systemd/README.md):

==  ========================================================================================
0   every source synced (and, with ``--send``, no entry failed or conflicted)
1   some source failed (the others ran), or ``--send`` left entries failed or in conflict
2   nothing to do as asked: no such source, no source configured, unreadable settings
3   the cache cannot be opened or used (as every sub-command)
75  another team-sync holds the lock: nothing done (systemd: ``SuccessExitStatus=75``)
==  ========================================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from workbench.cli import CliError, add_common, open_engine, print_json, runner_for

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from workbench.services.settings import SourceConfig

#: exit code when another run holds the lock (EX_TEMPFAIL: try again later)
BUSY = 75
#: the exit codes as ``--help`` lists them (the module doc explains them)
EPILOG = """\
one line per source on stdout; a lock keeps two runs from overlapping.
exit codes:
  0   every source synced (with --send: no entry failed or in conflict)
  1   some source failed (the others ran), or --send left entries failed/in conflict
  2   no such source, no source configured, unreadable settings
  3   the cache cannot be opened or used
  75  another team-sync holds the lock: nothing done (systemd: SuccessExitStatus=75)
sample units: packaging/systemd/ (README.md there)"""
#: connectors a team sync never runs by default: a workstation's copy of the team cache
SKIPPED_CONNECTORS = frozenset({"team"})


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("team-sync", help="scheduled sync of a team cache from its sources "
                                         "(cron/systemd; exit 75 when another run is busy)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("--source", action="append", default=None, metavar="NAME",
                   help="a configured source to sync (repeat; default: every enabled one "
                        "but team copies)")
    p.add_argument("--send", action="store_true",
                   help="then send the queued decisions (the team's outbox) once")
    add_common(p)
    p.set_defaults(func=run)


def chosen_sources(configured: Sequence[SourceConfig], names: Sequence[str] | None
                   ) -> list[SourceConfig]:
    """The sources a run syncs: those ``names`` (in that order; disabled ones too, as asked),
    else every enabled configured one whose connector is not in :data:`SKIPPED_CONNECTORS`.
    CliError (exit 2) naming what is missing."""
    by_name = {s.name: s for s in configured}
    if names:
        missing = [n for n in names if n not in by_name]
        if missing:
            known = ", ".join(by_name) or "none configured"
            raise CliError(f"no source named {', '.join(map(repr, missing))} ({known})", 2)
        return [by_name[n] for n in dict.fromkeys(names)]
    chosen = [s for s in configured if s.enabled and s.connector not in SKIPPED_CONNECTORS]
    if not chosen:
        raise CliError("no source to sync: configure one with `workbench sources add`", 2)
    return chosen


def _sync_one(engine: Engine, source: SourceConfig, state: Any) -> dict[str, Any]:
    """One source's run as a line's fields: status ok/failed, run, counts, seconds, error."""
    from workbench.app.sync import SourceError, sync_source
    from workbench.connect.credentials import CredentialError
    from workbench.connect.port import ConnectorError

    line: dict[str, Any] = {"source": source.name, "connector": source.connector}
    try:
        report = runner_for(engine).run(
            sync_source, source, check=True, verify=True, state=state).value
    except (SourceError, ConnectorError, LookupError, CredentialError, OSError) as exc:
        return {**line, "status": "failed", "error": str(exc) or type(exc).__name__}
    result = report.result
    totals = {k: sum(int(c.get(k, 0)) for c in result.counts.values())
              for k in ("received", "changed", "deleted")}
    return {**line, "status": "ok" if result.ok else "failed", "run": result.run_id,
            **totals, "seconds": round(result.duration_s, 1),
            "error": None if result.ok else (result.error or str(result.status))}


def _text(line: dict[str, Any], width: int) -> str:
    name = f"{line['source']:<{width}}"
    if line["status"] != "ok":
        return f"{name}  failed  {line['error']}"
    return (f"{name}  ok      run {line['run']}  received {line['received']:,}  "
            f"changed {line['changed']:,}  deleted {line['deleted']:,}  {line['seconds']} s")


def run(args: argparse.Namespace) -> int:
    from workbench.app.outbox import send_pending
    from workbench.cache.joblock import JobBusy, job_lock
    from workbench.services.settings import SettingsError, load_settings
    from workbench.services.tasks import SimpleState

    try:
        configured = list(load_settings().sources)
    except SettingsError as exc:
        raise CliError(str(exc), 2) from None
    sources = chosen_sources(configured, args.source)
    engine = open_engine(args)
    state = SimpleState(echo=False)
    lines: list[dict[str, Any]] = []
    sent: dict[str, Any] | None = None
    width = max([len(s.name) for s in sources] + [len("outbox") if args.send else 0])
    try:
        with job_lock(engine, "team-sync"):
            for source in sources:
                lines.append(_sync_one(engine, source, state))
                if not args.json:
                    print(_text(lines[-1], width), flush=True)
            if args.send:
                drained = runner_for(engine).run(send_pending, configured, state=state).value
                sent = drained.to_dict()
                if not args.json:
                    print(f"{'outbox':<{width}}  sent {len(drained.sent)}  "
                          f"conflicts {len(drained.conflicts)}  failed {len(drained.failed)}  "
                          f"waiting {len(drained.waiting) + len(drained.retrying)}", flush=True)
    except JobBusy as exc:
        if args.json:
            print_json({"status": "busy", "message": str(exc), "sources": []})
        raise CliError(str(exc), BUSY) from None
    failed = [line["source"] for line in lines if line["status"] != "ok"]
    unsent = bool(sent and (sent["failed"] or sent["conflicts"]))
    if args.json:
        print_json({"status": "failed" if failed or unsent else "ok", "sources": lines,
                    "outbox": sent})
    if failed or unsent:
        what = [f"{len(failed)} of {len(lines)} sources failed ({', '.join(failed)})"] \
            if failed else []
        what += ["some queued decisions failed or are in conflict (`workbench outbox`)"] \
            if unsent else []
        raise CliError("; ".join(what), 1)
    sys.stdout.flush()
    return 0
