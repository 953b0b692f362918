"""The CLI on a team cache (issue 17 §2/§3), as real processes: ``decisions record
--expected-version`` refuses a decision another buyer made first (exit 4, both decisions shown),
``decisions list --requisition`` gives the version to decide on, and the decision history and
audit log name the workstation login and the database role."""

from __future__ import annotations

import getpass
import json

from sqlalchemy import make_url

from tests.foundation.clirun import cli
from tests.team.buyers import team_cache
from workbench.cache.db import open_cache

__all__ = ["team_cache"]  # the fixture, imported to be used here


def test_a_decision_on_a_stale_version_is_refused_with_both_shown(team_cache: str) -> None:
    engine = open_cache(team_cache)
    role = (str(make_url(str(engine.url)).username) if engine.dialect.name == "postgresql"
            else getpass.getuser())
    engine.dispose()
    login = getpass.getuser()
    listed = cli("decisions", "list", "--requisition", "REQ-08", "--cache", team_cache)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "no decisions recorded",
        "REQ-08: decision version 0 (decide on it with --expected-version 0)"]
    ann = cli("decisions", "record", "REQ-08", "--verdict", "modify", "--action", "reduce",
              "--quantity", "70", "--by", "Ann", "--expected-version", "0",
              "--cache", team_cache)
    assert ann.returncode == 0, ann.stderr
    bob = cli("decisions", "record", "REQ-08", "--verdict", "modify", "--action", "increase",
              "--quantity", "90", "--by", "Bob", "--expected-version", "0",
              "--cache", team_cache, "--json")
    assert bob.returncode == 4, bob.stderr
    conflict = json.loads(bob.stdout)["conflict"]
    assert (conflict["theirs"]["decided_by"], conflict["theirs"]["quantity"]) == ("Ann", 70.0)
    assert (conflict["ours"]["decided_by"], conflict["ours"]["quantity"]) == ("Bob", 90.0)
    assert (conflict["expected_version"], conflict["current_version"]) == (0, 1)
    assert bob.stderr.startswith(
        "workbench decisions: requisition REQ-08 was decided by another buyer while you "
        "looked at it (version 0, now 1): theirs — Ann (login ")
    assert "yours, not stored — Bob (login " in bob.stderr
    history = cli("decisions", "list", "--requisition", "REQ-08", "--cache", team_cache)
    lines = history.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith(f"by Ann (login {login}, role {role})")
    assert lines[1] == "REQ-08: decision version 1 (decide on it with --expected-version 1)"
    audit = cli("outbox", "--audit", "--cache", team_cache).stdout.splitlines()
    assert len(audit) == 2  # newest first: Bob's refused decision, Ann's stored one
    assert " Bob " in audit[0] and audit[0].endswith(f"conflict  (login {login}, role {role})")
    assert " Ann " in audit[1] and audit[1].endswith(f"queued  (login {login}, role {role})")
