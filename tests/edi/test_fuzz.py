"""Fuzz: mutated real messages never raise anything but EdiError, and a rejected file changes
nothing in the cache (never half-applied)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planner_connectors.edi import EdiConnector
from planner_connectors.edi.connector import read_interchange
from planner_connectors.edi.model import EdiError
from sqlalchemy import Engine

from tests.edi.conftest import PARTNERS, SENDER_A, plant
from tests.edi.messages import Line, desadv, ordrsp, x855, x856
from tests.fixtures_connector import MemoryConnector
from workbench.cache.db import open_cache
from workbench.services.edi import sync_inbox
from workbench.services.sync import run_sync

SEEDS = [
    ordrsp(SENDER_A, "C1", "R1", "202612011015", "PO-1", [
        Line("PO-1", 1, 8, "BX", "3", "20261215", supplier_item="A-100"),
        Line("PO-1", 2, 50000, "GRM", "5", "20261212", supplier_item="A-200")]),
    desadv(SENDER_A, "C2", "SH-1", "202612091000", "20261209", "20261211",
           [Line("PO-1", 1, 60, "C62"), Line("PO-1", 2, 20, "KGM")]),
    x855("SUP-A", "17", "SO-1", "202612011015", "PO-1", [
        Line("PO-1", 1, 96, "EA", "IQ", "20261215", buyer_item="BOLT"),
        Line("PO-1", 2, 50, "KG", "IA", "20261212")], version="005010"),
    x856("SUP-A", "18", "SH-2", "202612091100", "20261209", "20261212",
         [Line("PO-1", 1, 36, "EA"), Line("PO-1", 2, 5, "KG")], version="004010"),
]

ALPHABET = "+:'?*~>\n UNTSEHLQ0123456789.-ABZ\x00é"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "cut", "swap"]))
        i = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "replace":
            text = text[:i] + draw(st.sampled_from(ALPHABET)) + text[i + 1:]
        elif kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 12)):]
        elif kind == "insert":
            text = text[:i] + draw(st.text(ALPHABET, min_size=1, max_size=6)) + text[i:]
        elif kind == "cut":
            text = text[:i]
        else:
            sep = "'" if text.startswith("UNA") else "~"
            segs = text.split(sep)
            j = draw(st.integers(0, len(segs) - 1))
            k = draw(st.integers(0, len(segs) - 1))
            segs[j], segs[k] = segs[k], segs[j]
            text = sep.join(segs)
    return text


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_reader_raises_only_its_own_error(text: str) -> None:
    try:
        read_interchange(text.encode("utf-8"))
    except EdiError as exc:
        # a named error (segment / element / expected), not the catch-all around the readers
        assert str(exc) and "unreadable (" not in str(exc)


def _state(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return [[tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1, 2")]
                for t in ("purchase_order_lines", "promise_changes", "edi_acknowledgements",
                          "edi_shipments")]


_ENGINES: dict[str, tuple[Engine, Path]] = {}


def _cache(tmp: Path) -> tuple[Engine, Path]:
    if "e" not in _ENGINES:
        engine = open_cache(tmp / "fuzz.sqlite")
        data = plant()
        for row in (r for rows in data.values() for r in rows):
            row.setdefault("source", "erp")
        assert run_sync(engine, MemoryConnector(data, 100), now=dt.datetime(2026, 11, 26)).ok
        inbox = tmp / "inbox"
        inbox.mkdir()
        _ENGINES["e"] = (engine, inbox)
    return _ENGINES["e"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated(), n=st.integers(0, 10**9))
def test_a_mutated_file_is_applied_whole_or_not_at_all(tmp_path_factory, text: str, n: int) -> None:  # type: ignore[no-untyped-def]
    engine, inbox = _cache(tmp_path_factory.getbasetemp())
    before = _state(engine)
    path = inbox / f"m{n}.edi"
    path.write_text(text, encoding="utf-8")
    os.utime(path)
    result = sync_inbox(engine, EdiConnector(inbox, partners=PARTNERS), "fuzz")
    counts = result.counts["edi_messages"]
    assert counts["received"] in (0, 1)  # 0: the very same bytes were archived before
    if counts["rejected"] or counts["duplicate"]:
        assert _state(engine) == before
        if counts["rejected"]:
            (err,) = result.rejected
            assert err.file == path.name and err.reason
    else:
        lines = result.counts["purchase_order_lines"]
        assert lines["changed"] <= lines["received"]
    assert not path.exists()


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_the_fast_edifact_split_reads_as_pydifacts_tokenizer(text: str) -> None:
    """Without a release character no separator is escaped, and ``str.split`` reads what
    pydifact's tokenizer reads: the same interchange, or an error from both."""
    from planner_connectors.edi import edifact

    if not text.startswith("UNA") or "?" in text[9:]:
        return

    def outcome(fast: bool) -> object:
        try:
            return edifact.read(text, fast=fast)
        except EdiError:
            return "error"

    assert outcome(True) == outcome(False)
