"""``workbench --cache X COMMAND`` works on X: the sub-command's own ``--cache`` (left out) does
not put its default back (it once did: the command wrote the user's default cache instead)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.foundation.clirun import cli
from workbench.cli import build_parser


def test_the_cache_before_the_command_is_the_one_used(tmp_path: Path) -> None:
    parser = build_parser()
    assert parser.parse_args(["--cache", "/tmp/a.sqlite", "status"]).cache == Path("/tmp/a.sqlite")
    assert parser.parse_args(["status", "--cache", "/tmp/b.sqlite"]).cache == Path("/tmp/b.sqlite")
    assert parser.parse_args(["status"]).cache is None

    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config")}
    cache = tmp_path / "chosen.sqlite"
    run = cli("--cache", cache, "sync", "--demo", env=env)
    assert run.returncode == 0, run.stderr
    assert cache.exists()
    assert not (home / "data").exists() or not any((home / "data").rglob("cache.sqlite"))
    status = cli("--cache", cache, "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    answer = json.loads(status.stdout)
    assert answer["path"] == str(cache)
    assert answer["entities"]["items"]["demo"] == 300  # the small demo's items, in X
