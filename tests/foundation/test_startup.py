"""Starting: --version names the installation's paths, the GUI explains a missing display or
missing system libraries (exit 2, never Qt's abort 134), --demo never discards decisions
silently (workbench.startup, workbench.ui.app.run_gui, workbench sync --demo)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import __version__
from workbench.cli import main
from workbench.startup import (
    apt_command,
    decisions_at_risk,
    gui_problem,
    ldd_missing,
    missing_libraries,
)

REPO = Path(__file__).resolve().parents[2]

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, **extra}


def test_version_names_build_cache_settings_and_site_profile(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    site = tmp_path / "site.toml"
    site.write_text(f'cache_path = "{tmp_path / "team.sqlite"}"\n')
    monkeypatch.setenv("PWB_SITE_PROFILE", str(site))
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"workbench {__version__}"
    rows = dict(line.split(": ", 1) for line in lines[1:])
    assert rows["build"] == "source checkout"
    assert rows["cache"] == str(tmp_path / "team.sqlite")  # the site profile's cache
    assert rows["settings"] == os.path.join(os.environ["XDG_CONFIG_HOME"], "PlannerWorkbench",
                                            "settings.json")
    assert rows["site profile"] == str(site)
    assert rows["user site profile"].endswith("site.toml (none)")
    with pytest.raises(SystemExit):
        main(["--cache", str(tmp_path / "x.sqlite"), "--version"])
    assert f"cache: {tmp_path / 'x.sqlite'}" in capsys.readouterr().out


def test_the_cli_uses_the_cache_the_site_profile_names(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    team = tmp_path / "team" / "cache.sqlite"
    team.parent.mkdir()
    site = tmp_path / "site.toml"
    site.write_text(f'cache_path = "{team}"\n')
    monkeypatch.setenv("PWB_SITE_PROFILE", str(site))
    assert main(["sync", "--demo", "--json"]) == 0
    assert team.stat().st_size > 100_000


def test_ldd_output_and_apt_command() -> None:
    assert ldd_missing(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert apt_command(["libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libxcb-icccm.so.4"]) == \
        "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    # a library Qt opens at run time is checked by name, not by ldd
    assert missing_libraries(Path("/nonexistent"), find_library=lambda _n: None) == \
        ["libxcb-cursor.so.0"]
    assert missing_libraries(Path("/nonexistent"), find_library=lambda n: f"lib{n}.so") == []


def test_gui_problem_by_display_and_platform() -> None:
    none = gui_problem({}, "linux", missing=lambda: [])
    assert none is not None and "no display" in none and "QT_QPA_PLATFORM=offscreen" in none
    assert "workbench status" in none
    assert gui_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", missing=lambda: ["x"]) is None
    assert gui_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", missing=lambda: ["x"]) is None
    assert gui_problem({"WAYLAND_DISPLAY": "w-0", "DISPLAY": ":0"}, "linux",
                       missing=lambda: ["x"]) is None
    assert gui_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w-0", "DISPLAY": ":0"},
                       "linux", missing=lambda: ["libxcb-icccm.so.4"]) is not None
    assert gui_problem({}, "win32", missing=lambda: ["x"]) is None
    assert gui_problem({"DISPLAY": ":0"}, "linux", missing=lambda: []) is None
    lacking = gui_problem({"DISPLAY": ":0"}, "linux",
                          missing=lambda: ["libxcb-icccm.so.4", "libxcb-cursor.so.0"])
    assert lacking is not None and "libxcb-icccm.so.4, libxcb-cursor.so.0" in lacking
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in lacking


def _start_gui(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "main.py"), "--cache",
                           str(tmp_path / "c.sqlite")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)


def test_no_display_is_explained_not_aborted(tmp_path: Path) -> None:
    run = _start_gui(_env(), tmp_path)
    assert run.returncode == 2, run.stderr  # Qt alone aborts here with 134
    assert "there is no display" in run.stderr and "offscreen" in run.stderr


def test_missing_xcb_libraries_are_named_with_the_apt_command(tmp_path: Path) -> None:
    lacking = missing_libraries()
    if not lacking:
        pytest.skip("this machine has every library Qt's xcb plugin needs")
    run = _start_gui(_env(DISPLAY=":97"), tmp_path)
    assert run.returncode == 2, run.stderr
    assert all(lib in run.stderr for lib in lacking)
    assert apt_command(lacking) in run.stderr


# --- --demo and decisions -------------------------------------------------------------------

def _decide(cache: Path, *, connector: str | None = None) -> None:
    """One decision in the cache; ``connector``: the data came from that source instead."""
    with sqlite3.connect(cache) as conn:
        conn.execute("INSERT INTO decisions (requisition, verdict, action, decided_at) "
                     "VALUES ('PR-1', 'approve', 'approve', '2026-01-05T10:00:00')")
        if connector:
            conn.execute("UPDATE sync_runs SET connector = ?", (connector,))


def _decisions(cache: Path) -> int:
    with sqlite3.connect(cache) as conn:
        return int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])


def test_sync_demo_refuses_to_replace_another_sources_decisions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "plant.sqlite"
    assert main(["sync", "--demo", "--cache", str(cache), "--json"]) == 0
    _decide(cache)  # decisions on the demo's own data: the round trip goes on
    assert decisions_at_risk(cache, replaced=False) == (0, [])
    assert main(["sync", "--demo", "--cache", str(cache), "--json"]) == 0
    _decide(cache, connector="tryton")
    assert decisions_at_risk(cache, replaced=False) == (2, ["tryton"])
    capsys.readouterr()
    assert main(["sync", "--demo", "--cache", str(cache), "--json"]) == 2
    err = capsys.readouterr().err
    assert "2 decision(s) on data from tryton" in err and "--force" in err
    assert _decisions(cache) == 2
    assert main(["sync", "--demo", "--force", "--cache", str(cache), "--json"]) == 0


def test_gui_demo_asks_before_discarding_the_demo_caches_decisions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: object) -> None:
    from PySide6.QtWidgets import QMessageBox

    from workbench.ui import app as gui

    demo = gui.demo_cache_path()
    demo.parent.mkdir(parents=True, exist_ok=True)
    assert main(["sync", "--demo", "--cache", str(demo), "--json"]) == 0
    _decide(demo)
    assert decisions_at_risk(demo, replaced=True) == (1, [])
    # unattended (--smoke): refused, the file untouched
    assert gui.run_gui(demo=True, smoke=tmp_path / "s.png") == 2
    assert _decisions(demo) == 1
    asked: list[str] = []

    def answer(button: QMessageBox.StandardButton):  # type: ignore[no-untyped-def]
        def question(_parent, _title, text, *_args):  # type: ignore[no-untyped-def]
            asked.append(text)
            return button
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert gui._demo_confirmed(None, unattended=False) is False
    assert "1 decision(s)" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert gui._demo_confirmed(None, unattended=False) is True
    assert _decisions(demo) == 1  # asking changes nothing
