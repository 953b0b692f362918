"""Source settings are typed (issue 11, section 5): each connector declares its options, and a
value given through `sources add` is converted and checked when saved, not at the next sync."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.connect.factory import OptionError, make_connector, typed_options
from workbench.connect.port import ConnectorBase, ConnectorError

REPO = Path(__file__).resolve().parents[2]
ERP = ("url=http://127.0.0.1:8000", "database=plant", "user=planner")


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"),
           "XDG_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)


def test_documented_tryton_options_are_saved_as_numbers(tmp_path: Path) -> None:
    added = _cli("sources", "add", "erp", "tryton", *ERP, "timeout=30", "overlap_seconds=120",
                 "parallel_reads=2", home=tmp_path)
    assert added.returncode == 0, added.stderr
    listed = json.loads(_cli("sources", "list", "--json", home=tmp_path).stdout)
    assert listed[0]["params"] == {"url": "http://127.0.0.1:8000", "database": "plant",
                                   "user": "planner", "timeout": 30.0, "overlap_seconds": 120.0,
                                   "parallel_reads": 2}


@pytest.mark.parametrize(("given", "message"), [
    ("timeout=soon", "tryton option timeout='soon': Input should be a valid number"),
    ("timeout=0", "tryton option timeout='0': Input should be greater than 0"),
    ("overlap_seconds=-5", "tryton option overlap_seconds='-5': Input should be greater than or "
                           "equal to 0"),
    ("overlap_seconds=inf", "tryton option overlap_seconds='inf': Input should be a finite number"),
    ("parallel_reads=1.5", "tryton option parallel_reads='1.5': Input should be a valid integer"),
    ("timout=30", "tryton takes no option 'timout' (its options: database, "),
])
def test_a_bad_option_value_is_refused_when_saved(tmp_path: Path, given: str, message: str) -> None:
    run = _cli("sources", "add", "erp", "tryton", *ERP, given, home=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert json.loads(_cli("sources", "list", "--json", home=tmp_path).stdout) == []


def test_a_source_missing_a_required_option_is_refused(tmp_path: Path) -> None:
    run = _cli("sources", "add", "erp", "tryton", "url=http://127.0.0.1:8000", home=tmp_path)
    assert run.returncode == 2 and "tryton needs database=..." in run.stderr


def test_settings_saved_as_text_are_converted_when_the_connector_is_built() -> None:
    connector = make_connector("tryton", url="http://127.0.0.1:8000", database="plant",
                               password="x", timeout="30", overlap_seconds="90",
                               parallel_reads="3")
    assert connector.overlap == dt.timedelta(seconds=90)  # type: ignore[attr-defined]
    assert connector.parallel_reads == 3  # type: ignore[attr-defined]
    with pytest.raises(ConnectorError, match="overlap_seconds='soon'"):
        make_connector("tryton", url="http://h", database="d", password="x",
                       overlap_seconds="soon")


def test_files_and_demo_options_are_typed_too() -> None:
    assert typed_options("files", {"folder": "/p", "complete": "no"}) == {
        "folder": "/p", "complete": False}
    assert typed_options("demo", {"scale": "medium", "day": "7"}) == {"scale": "medium", "day": 7}
    with pytest.raises(OptionError, match="demo option scale='huge'"):
        typed_options("demo", {"scale": "huge"})
    with pytest.raises(OptionError, match="demo option day='-1'"):
        typed_options("demo", {"day": "-1"})


def test_an_add_on_without_declared_options_gets_its_parameters_as_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Fixed(ConnectorBase):  # options: the base's None
        def __init__(self, host: str, port: str = "1") -> None: ...

    class OpenEnded(ConnectorBase):
        def __init__(self, **params: str) -> None: ...

    classes = {"fixed": Fixed, "open": OpenEnded}
    monkeypatch.setattr("workbench.connect.factory.get_connector_class", classes.__getitem__)
    assert typed_options("fixed", {"host": "h", "port": "2"}) == {"host": "h", "port": "2"}
    with pytest.raises(OptionError, match="fixed takes no option 'colour'"):
        typed_options("fixed", {"colour": "x"})
    assert typed_options("open", {"anything": "x"}) == {"anything": "x"}
