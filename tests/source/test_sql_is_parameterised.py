"""Every query's text is fixed when the module loads; values travel as parameters.

A query built at call time (an f-string, `%`, `+` or `.format` in the call) is how
SQL injection gets in, so this reads the source of every module that talks to
PostgreSQL and refuses any such call.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from db.pool import identifier

ROOT = Path(__file__).resolve().parents[2]
QUERY_METHODS = {"execute", "executemany", "fetch", "fetchrow", "fetchval", "cursor",
                 "prepare", "copy_from_query"}
SOURCES = sorted(p for folder in ("api", "db", "notifications", "bench")
                 for p in (ROOT / folder).rglob("*.py"))


def _built_at_call_time(node: ast.expr) -> bool:
    """Computed in the call, except an f-string whose only values are checked SQL names
    (`identifier(name)` from db/pool.py: a database name cannot be a parameter)."""
    if isinstance(node, ast.JoinedStr):
        return not all(_is_identifier_call(v.value) for v in node.values
                       if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.BinOp):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format")


def _is_identifier_call(node: ast.expr) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "identifier")


def dynamic_queries(source: str) -> list[int]:
    """Line numbers of query calls whose SQL text is computed in the call."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS and node.args
            and _built_at_call_time(node.args[0])]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_query_text_is_built_at_call_time(path):
    assert dynamic_queries(path.read_text()) == []


@pytest.mark.parametrize("call", [
    'conn.execute(f"select * from users where id = {user_id}")',
    'conn.fetch("select * from users where name = \'" + name + "\'")',
    'conn.fetchval("select %s" % value)',
    'conn.fetchrow("select {}".format(value))',
])
def test_the_check_catches_built_queries(call):
    """The control: each way of building a query in the call is caught."""
    assert dynamic_queries(call) == [1]


def test_constant_queries_with_parameters_pass():
    assert dynamic_queries('conn.fetch(_LOAD_CALLER, user_id, now)') == []
    assert dynamic_queries('conn.execute(f"create database {identifier(name)}")') == []


@pytest.mark.parametrize("name", ["muster", "muster_test_42"])
def test_plain_names_are_quoted(name):
    assert identifier(name) == f'"{name}"'


@pytest.mark.parametrize("name", ['x"; drop table users; --', "Muster", "", "a b", "1abc"])
def test_anything_else_is_refused_as_a_name(name):
    with pytest.raises(ValueError, match="not a plain SQL name"):
        identifier(name)
