"""SQL lives in the cache package (issue 12, point 5): the services and the application layer
orchestrate; no module of workbench/services or workbench/app builds or runs a statement.

An AST scan of every module there: no SQLAlchemy import but the ``Engine`` / ``Connection``
types, no table, column or SQL constant from workbench.cache.schema, no sqlite3 driver, no call
of ``execute`` / ``executemany`` / ``executescript`` / ``exec_driver_sql``, no SQL text in a
string (docstrings may name statements in prose).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import Column, Table

import workbench.cache.schema as schema

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("workbench/services", "workbench/app")
#: the only SQLAlchemy names these layers may import: types of what they pass down to the cache
TYPES = {"Engine", "Connection"}
RUNS = {"execute", "executemany", "executescript", "exec_driver_sql"}
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\bREPLACE\s+INTO\b|\bON\s+CONFLICT\b|\bPRAGMA\s+\w"
)


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                out.add(id(body[0].value))
    return out


def _schema_sql(name: str) -> bool:
    value = getattr(schema, name, None)
    return isinstance(value, Table | Column) or (isinstance(value, str) and bool(SQL.search(value)))


def violations(source: str) -> list[str]:
    """What in ``source`` is SQL work: ``"line N: what"`` each."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in ("sqlalchemy", "sqlite3")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            names = [a.name for a in node.names]
            if root == "sqlalchemy":
                found += [f"line {line}: from {node.module} import {n}" for n in names
                          if n not in TYPES]
            elif root == "sqlite3":
                found.append(f"line {line}: from sqlite3 import {', '.join(names)}")
            elif node.module == "workbench.cache.schema":
                found += [f"line {line}: from workbench.cache.schema import {n}" for n in names
                          if _schema_sql(n)]
        elif isinstance(node, ast.Attribute) and node.attr in RUNS:
            found.append(f"line {line}: .{node.attr}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) if isinstance(v, ast.Constant) else " x "
                           for v in node.values)
            if SQL.search(text):
                found.append(f"line {line}: SQL text {text[:50]!r}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in skip and SQL.search(node.value)):
            found.append(f"line {line}: SQL text {node.value[:50]!r}")
    return found


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_services_and_app_hold_no_sql(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("source", "what"), [
    ("from sqlalchemy import Connection, Engine, insert", "from sqlalchemy import insert"),
    ("from sqlalchemy.sql import text", "from sqlalchemy.sql import text"),
    ("import sqlalchemy as sa", "import sqlalchemy"),
    ("import sqlite3", "import sqlite3"),
    ("from workbench.cache.schema import sync_runs, entity_columns",
     "from workbench.cache.schema import sync_runs"),
    ("from workbench.cache.schema import NEW_STAMP", "from workbench.cache.schema import NEW_STAMP"),
    ("x = conn.exec_driver_sql(q)", ".exec_driver_sql"),
    ("cur.executemany(q, rows)", ".executemany"),
    ("engine.execute(q)", ".execute"),
    ("q = 'SELECT max(last_seen) FROM exception_messages'", "SQL text"),
    ("q = f'INSERT INTO {t} ({cols}) VALUES ({marks})'", "SQL text"),
    ("q = f'UPDATE {t} SET deleted_at = ? WHERE {where}'", "SQL text"),
    ("q = 'DELETE FROM sync_context WHERE key = ?'", "SQL text"),
    ("q = 'INSERT OR REPLACE INTO sync_context (key, value) VALUES (?, ?)'", "SQL text"),
])
def test_the_scan_finds_each_kind_of_sql(source: str, what: str) -> None:
    assert any(what in v for v in violations(source)), violations(source)


def test_the_scan_lets_types_prose_and_names_pass() -> None:
    source = '''"""Sync runs: ``INSERT … ON CONFLICT``, SELECT what FROM where, in prose."""
from sqlalchemy import Connection, Engine
from workbench.cache.schema import entity_columns, ENTITY_TABLES

def run(engine: Engine) -> None:
    """Select the rows; update the table (docstring)."""
    label = "Select a source, then update it"
    runner.run(fn)
'''
    assert violations(source) == []
