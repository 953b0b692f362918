"""Every CLI sub-command on a PostgreSQL cache (issue 17 §1: "``--cache postgresql://…`` works
for every CLI sub-command"), as a planner runs them: real processes (tests/foundation/clirun.py)
on the small demo synced into a PostgreSQL database of the test server and, beside it, into a
SQLite file. Each step of :func:`steps` runs on both; their exit codes and outputs must be equal
(the cache's location, package folders, wall-clock times and durations masked), so every number a
command prints on the team cache is the one it prints on a workstation's cache.

The commands are listed from the CLI's parser (:func:`command_paths`): a sub-command added later
and not run here fails :func:`test_every_sub_command_is_in_the_sweep` by name.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.foundation.clirun import REPO, cli
from workbench.cli import build_parser

MAPPINGS = REPO / "resources" / "mappings"


def command_paths() -> set[str]:
    """Every command of the parser as typed (``status``, ``exceptions approve``, ...): nested
    actions, and a command whose action is optional (``exceptions`` lists) itself too."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if path and (not subs or not all(a.required for a in subs)):
            found.add(" ".join(path))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, [*path, name])

    walk(build_parser(), [])
    return found


def _takes_cache(path: str) -> bool:
    parser = build_parser()
    for word in path.split():
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return any("--cache" in a.option_strings for a in parser._actions)


@dataclass
class Session:
    """One engine's run of the sweep: where its cache is, its scratch folder, what each step
    printed (normalized) and what later steps look up (message ids by kind and element)."""

    where: str
    scratch: Path
    engine: str
    outputs: list[tuple[str, int, str, str]] = field(default_factory=list)
    run: set[str] = field(default_factory=set)
    messages: dict[tuple[str, str], int] = field(default_factory=dict)

    def mask(self, text: str) -> str:
        text = text.replace(self.where, "<cache>").replace(str(self.scratch), "<scratch>")
        text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "<time>", text)
        text = re.sub(r"\b\d+(\.\d+)? ?(s|ms|seconds)\b", "<secs>", text)
        text = re.sub(r"\"(seconds|duration|elapsed)[a-z_]*\": [0-9.e-]+", r'"\1": <secs>', text)
        # who: SQLite records the workstation login as the role, PostgreSQL the database role
        text = re.sub(r'(db_role\\?": \\?")[^"\\]*', r"\1<role>", text)  # JSON, in JSON too
        return re.sub(r"(login \S+?, role )[^)\s]+", r"\1<role>", text)

    def cli(self, path: str, *args: str | Path | int, code: int = 0, cache: bool = True
            ) -> subprocess.CompletedProcess[str]:
        """Run ``workbench <path> <args> [--cache <where>]``; its exit code must be ``code``."""
        self.run.add(path)
        argv = [*path.split(), *map(str, args)]
        if cache:
            argv += ["--cache", self.where]
        done = cli(*argv, env=self.env())
        assert "Traceback" not in done.stderr, (self.engine, argv, done.stderr)
        assert done.returncode == code, (self.engine, argv, done.returncode, done.stderr,
                                         done.stdout[-2000:])
        self.outputs.append((" ".join(map(str, argv)).replace(self.where, "<cache>")
                             .replace(str(self.scratch), "<scratch>"), done.returncode,
                             self.mask(done.stdout), self.mask(done.stderr)))
        return done

    def env(self) -> dict[str, str]:
        """The engine's own user folders: its settings (configured sources), data (a
        PostgreSQL cache's local files) apart from the other engine's."""
        out = {}
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                         ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
            (self.scratch / "user" / sub).mkdir(parents=True, exist_ok=True)
            out[var] = str(self.scratch / "user" / sub)
        return out

    def json(self, path: str, *args: str | Path | int, code: int = 0) -> Any:
        return json.loads(self.cli(path, *args, "--json", code=code).stdout)


def _team_options(s: Session) -> list[str]:
    """``sources add NAME team …`` options naming the cache of ``s`` (the role apart)."""
    where = s.where
    if isinstance(s, Both) or where == "x":  # placeholders: each engine names its own
        return [TEAM]
    if not where.startswith("postgresql://"):
        return [f"cache={where}"]
    parts = urlsplit(where)
    return [f"cache={parts._replace(netloc=parts.netloc.split('@')[-1]).geturl()}",
            f"role={parts.username}"]


def steps(s: Session) -> None:
    """The sweep, in order: each command with its main options, on the demo synced on day 0
    (then on day 7 through a configured source)."""
    sync = s.json("sync", "--demo", "--scale", "small")
    assert (sync["status"], sync["run_id"]) == ("succeeded", 1)
    status = s.json("status")
    assert status["entities"]["items"] == {"demo": 300}
    assert status["entities"]["requisitions"] == {"demo": 40}
    s.cli("status")
    # the product structure
    s.cli("where-used", "PP-00001")
    s.cli("where-used", "PP-00001", "--single-level", "--json")
    s.cli("where-used", "PP-00001", "--all-revisions", "--include-drafts", "--include-obsolete")
    s.cli("where-used", "PP-00001", "--site", "P1", "--max-paths", "3", "--on", "2026-12-01")
    s.cli("impact", "FG-00001", "--from", "A", "--to", "B")
    s.cli("impact", "FG-00001", "--from", "A", "--to", "B", "--what-if", "--on", "2026-12-01",
          "--json")
    # the plan
    s.cli("elements", "PP-00014")
    s.cli("elements", "PP-00014", "--site", "P1", "--bucket", "day", "--json")
    s.cli("elements", "PP-00014", "--today", "2026-11-09", "--horizon", "13w", "--bucket",
          "month")
    shortages = s.json("shortages", "--limit", "10")
    # 87 rows short on day 0 (92 in the plant argpartition's choice among equal anchor scores
    # made, before anchors.top_k)
    assert (shortages["planning_day"], shortages["rows_total"]) == ("2026-11-02", 87)
    s.cli("shortages", "--limit", "10")
    s.cli("shortages", "--item", "PP-00014", "--site", "P1")
    s.cli("shortages", "--risk-adjusted", "--limit", "5")
    s.cli("shortages", "--details", "--limit", "2", "--json")
    s.cli("shortages", "--bucket", "day", "--no-forecast-consumption", "--limit", "5")
    s.cli("shortages", "--consume-backward", "10", "--consume-forward", "5", "--horizon", "90d",
          "--limit", "5")
    s.cli("slippage")
    s.cli("slippage", "--lines", "--json")
    s.cli("slippage", "--supplier", "S0001", "--today", "2026-11-09")
    s.cli("reevaluate", "--dry-run")
    s.cli("reevaluate", "--no-pegs", "--json")
    s.cli("reevaluate")
    # supplier messages
    s.cli("edi list")
    s.cli("edi list", "--rejected", "--json")
    s.cli("edi mismatches")
    s.cli("edi mismatches", "--json")
    s.cli("edi replay", "1", code=2)  # message 1 was applied, not rejected
    # exception messages
    listed = s.json("exceptions")
    # the small demo's day 0: 437 (438 before E04 advised whole units of the line's unit:
    # PO-000030/2 orders 3 BOX of 250 EA of PP-00002 at P2, 1 BOX received, open 500 EA;
    # WO-000026 needs 377 EA there, 9 + 2 EA on hand: 366 EA needed, min order 50 -> 366 =
    # 1.464 BOX -> 2 BOX = 500 EA, not below the open 500: its reduce is no more)
    assert listed["total"] == len(listed["messages"]) == 437
    s.messages = {(m["kind"], m["element"]): m["id"] for m in listed["messages"]}
    s.cli("exceptions", "--limit", "20")
    s.cli("exceptions", "--role", "buyer", "--kind", "E01", "--site", "P1", "--limit", "5")
    s.cli("exceptions", "--supplier", "S0001", "--min-age", "0", "--no-refresh")
    s.cli("exceptions", "--reschedule-in-tolerance-days", "3", "--reschedule-out-tolerance-days",
          "3", "--past-due-tolerance-days", "1", "--confirmation-days", "5",
          "--confirmation-tolerance-days", "2", "--ship-notice-tolerance-days", "2", "--limit",
          "5")
    s.cli("exceptions", "--bucket", "day", "--today", "2026-11-03", "--consume-backward", "20",
          "--limit", "5")
    first, second, third = (m["id"] for m in listed["messages"][:3])
    s.cli("exceptions ack", first, second, "--by", "sam")
    s.cli("exceptions snooze", third, "--until", "2026-12-01", "--by", "sam", "--json")
    s.cli("exceptions", "--all", "--no-refresh", "--limit", "10", "--json")
    # WO-000024 makes 385 of SA-00050 at P2 for WO-000026's 377, less 89 allocated to it and
    # 8 free: reduce to 280. PO-000001/2: 739 of PP-00086 at P1 due 2027-02-07, when stock 2,109
    # covers every requirement (439 + 428.13 + 647.22): cancel, which bea rejects.
    reschedule = s.messages[("reschedule_in", "PO-000001/1")]
    s.cli("exceptions approve", reschedule, "--date", "2026-11-04", "--by", "bea", "--json")
    s.cli("exceptions approve", s.messages[("reduce", "WO-000024")], "--by", "pat")
    s.cli("exceptions reject", s.messages[("cancel", "PO-000001/2")], "--comment", "spare part",
          "--by", "bea")
    s.cli("exceptions approve", "--supplier", "S0008", "--by", "bea")
    s.cli("exceptions", "--no-refresh", "--limit", "30")
    # requisition decisions and the outbox: the plan advises cancelling RQ-000004 (1,200 EA of
    # PP-00017 at P3, which has 571 in stock and no requirement) and reducing RQ-000001 (1,600
    # EA of PP-00035 at P1) to 1,200; ann reduces it to 800 instead, bob's keep then conflicts
    s.cli("decisions record", "RQ-000004", "--verdict", "approve", "--action", "cancel", "--by",
          "ann")
    s.cli("decisions record", "RQ-000001", "--verdict", "modify", "--action", "reduce",
          "--quantity", "800", "--by", "ann", "--expected-version", "0", "--json")
    s.cli("decisions record", "RQ-000001", "--verdict", "reject", "--action", "keep", "--by",
          "bob", "--expected-version", "0", code=4)
    s.cli("decisions")
    s.cli("decisions list", "--json")
    s.cli("decisions list", "--requisition", "RQ-000001")
    s.cli("outbox")
    entries = s.json("outbox")["entries"]
    assert len(entries) >= 4
    s.cli("outbox", "--send")
    s.cli("outbox", "--send", "--source", "demo", "--json", code=2)  # none configured yet
    s.cli("outbox", "--audit")
    s.cli("outbox", "--audit", "--json")
    sent = [str(e["id"]) for e in entries[:2]]
    s.cli("outbox", "--retry", *sent)  # sent entries: nothing queued again, said so
    s.cli("outbox", "--resend", sent[0])
    s.cli("outbox", "--discard", sent[0])
    s.cli("outbox", "--json")
    # the package round trip
    package = SCRATCH / "package"
    s.cli("export", "--package", package)
    s.cli("export", "--package", package, "--force", "--json")
    # configured sources: the demo a week later, the scheduled team sync
    s.cli("sources add", "demo7", "demo", "scale=small", "day=7", cache=False)
    s.cli("sources", cache=False)
    s.cli("sources list", cache=False)
    s.cli("sources list", "--json", cache=False)
    s.cli("sync", "--source", "demo7")
    s.cli("team-sync", "--source", "demo7")
    s.cli("team-sync", "--source", "demo7", "--send", "--json")
    s.cli("status")
    s.cli("exceptions", "--limit", "10")
    s.cli("sources remove", "demo7", cache=False)
    s.cli("sync", "--demo", "--scale", "small", "--day", "14", "--full", "--force")
    s.cli("sync", "--package", package, "--partial")
    s.cli("status", "--json")
    # the offline copy of this cache: a laptop pulls it and pushes a decision back
    s.cli("sources add", "office", "team", *_team_options(s), cache=False)
    laptop = SCRATCH / "laptop.sqlite"
    s.cli("sync", "--source", "office", "--cache", laptop, cache=False)
    # the plan advises cancelling RQ-000007 (683.17 M of RM-00014 at P1, which has 751.42 +
    # 200.66 M in stock and no requirement): ann keeps it
    s.cli("decisions record", "RQ-000007", "--verdict", "reject", "--action", "keep", "--by",
          "ann", "--cache", laptop, cache=False)
    s.cli("team push", "--cache", laptop, cache=False)
    s.cli("team push", "--source", "office", "--cache", laptop, "--json", cache=False)
    s.cli("decisions list", "--requisition", "RQ-000007")
    s.cli("sources remove", "office", cache=False)
    s.cli("team push", code=2)  # the team cache itself has no team source to push to
    # the mapping tools take no cache: the same answer next to either engine
    s.cli("mapping suggest", MAPPINGS / "plant", cache=False)
    s.cli("mapping check", MAPPINGS / "wms-stock.toml", MAPPINGS / "plant", "--rows", "1",
          "--json", cache=False)


class Both(Session):
    """Each step on the SQLite cache, then on the PostgreSQL one: exit codes and outputs
    compared at once (the first difference fails the test naming its command)."""

    def __init__(self, lite: Session, pg: Session) -> None:
        super().__init__("both", lite.scratch.parent, "both")
        self.lite, self.pg = lite, pg

    def cli(self, path: str, *args: str | Path | int, code: int = 0, cache: bool = True
            ) -> subprocess.CompletedProcess[str]:
        self.run.add(path)
        ours = self.lite.cli(path, *_on(args, self.lite), code=code, cache=cache)
        self.pg.cli(path, *_on(args, self.pg), code=code, cache=cache)
        if self.pg.outputs[-1][1:] != self.lite.outputs[-1][1:]:
            import difflib

            (cmd, *ours_), (_, *theirs) = self.lite.outputs[-1], self.pg.outputs[-1]
            diff = difflib.unified_diff("\n".join(map(str, ours_)).splitlines(),
                                        "\n".join(map(str, theirs)).splitlines(),
                                        "sqlite", "postgresql", lineterm="", n=1)
            pytest.fail(f"`workbench {cmd}` differs on PostgreSQL:\n" + "\n".join(diff))
        return ours


def _on(args: tuple[str | Path | int, ...], session: Session) -> list[str | Path | int]:
    """A step's arguments for ``session``: files in its own scratch folder (each engine its
    own package, laptop copy), :data:`TEAM` as the options naming its cache."""
    out: list[str | Path | int] = []
    for arg in args:
        if arg == TEAM:
            out += _team_options(session)
        elif isinstance(arg, Path) and arg.is_relative_to(SCRATCH):
            out.append(session.scratch / arg.relative_to(SCRATCH))
        else:
            out.append(arg)
    return out


#: where a step's files go: replaced by each engine's own scratch folder
SCRATCH = Path("/scratch-of-the-engine")
#: the ``sources add NAME team`` options naming the engine's own cache
TEAM = "<team options>"


def test_every_sub_command_is_in_the_sweep() -> None:
    """The sweep runs every command the parser has (a new one must be added to :func:`steps`);
    the ones without ``--cache`` touch no cache (mapping, sources)."""
    class DryRun(Session):
        def cli(self, path: str, *args: str | Path | int, code: int = 0, cache: bool = True
                ) -> subprocess.CompletedProcess[str]:
            assert path in command_paths(), path
            self.run.add(path)
            return subprocess.CompletedProcess([], 0, "{}", "")

        def json(self, path: str, *args: str | Path | int, code: int = 0) -> Any:
            self.cli(path, *args)
            return _FAKE.get(path.split()[0], {})

    dry = DryRun("x", Path("/nonexistent"), "none")
    steps(dry)
    assert sorted(command_paths() - dry.run) == []
    assert {p for p in command_paths() if not _takes_cache(p)} == {
        "mapping check", "mapping suggest", "sources", "sources add", "sources list",
        "sources remove"}


#: what the recording dry run of :func:`steps` answers to the steps that read JSON
_FAKE: dict[str, Any] = {
    "sync": {"status": "succeeded", "run_id": 1},
    "status": {"entities": {"items": {"demo": 300}, "requisitions": {"demo": 40}}},
    "shortages": {"planning_day": "2026-11-02", "rows_total": 87},
    "exceptions": {"total": 437, "messages": 431 * [{"id": 0, "kind": "", "element": ""}] + [
        {"id": n, "kind": k, "element": e} for n, (k, e) in enumerate(
            [("a", "1"), ("b", "2"), ("c", "3"), ("reschedule_in", "PO-000001/1"),
             ("reduce", "WO-000024"), ("cancel", "PO-000001/2")], 1)]},
    "outbox": {"entries": [{"id": n} for n in range(1, 5)]},
}


def test_every_command_gives_the_same_answer_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The sweep on the demo in PostgreSQL and in SQLite: every step's exit code, output and
    error output equal (locations, times and durations masked)."""
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "postgresql").mkdir()
    lite = Session(str(tmp_path / "cache.sqlite"), tmp_path / "sqlite", "sqlite")
    pg = Session(pg_url, tmp_path / "postgresql", "postgresql")
    both = Both(lite, pg)
    steps(both)
    assert lite.run == pg.run == both.run == command_paths()
    assert len(lite.outputs) == len(pg.outputs) == 85  # every step of steps() ran on both
