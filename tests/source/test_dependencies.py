"""Every third-party import is a declared dependency of pyproject.toml: the runtime code's
in `dependencies`, the tests' and benchmarks' there or in the `test` extra. A package
that only arrives through another one's requirements can vanish with its next release."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib

import pytest

from tests.source.imports import OURS, ROOT, imports, sources, top

RUNTIME = ("api", "db", "domain", "notifications")
# The benchmarks run as scripts from bench/ and import one another by bare name.
BENCH_SCRIPTS = frozenset(path.stem for path in (ROOT / "bench").glob("*.py"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_canonical(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r)[0]) for r in requirements}


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DECLARED_RUNTIME = _declared(PROJECT["dependencies"])
DECLARED_FOR_TESTS = DECLARED_RUNTIME | _declared(PROJECT["optional-dependencies"]["test"])
OWNERS = importlib.metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    """The installed distributions that may provide `module`. A namespace package
    (google) is shared by several: the one holding its subpackage (google.auth) is meant."""
    candidates = OWNERS.get(top(module), [])
    if len(candidates) > 1 and "." in module:
        folder = "/".join(module.split(".")[:2])
        candidates = [d for d in candidates
                      if any(str(f).startswith((folder + "/", folder + "."))
                             for f in importlib.metadata.distribution(d).files or ())]
    return {_canonical(d) for d in candidates}


def _undeclared(packages: tuple[str, ...], declared: set[str]) -> list[str]:
    missing = set()
    for path in sources(*packages):
        for name in imports(path):
            first = top(name)
            if first in sys.stdlib_module_names or first in OURS or first in BENCH_SCRIPTS:
                continue
            owners = _distributions(name)
            if not owners & declared:
                found = ", ".join(sorted(owners)) or "not installed"
                missing.add(f"{path.relative_to(ROOT)} imports {first} ({found})")
    return sorted(missing)


def test_runtime_imports_are_dependencies() -> None:
    assert _undeclared(RUNTIME, DECLARED_RUNTIME) == []


@pytest.mark.parametrize("packages", [("tests",), ("bench",)])
def test_test_and_bench_imports_are_dependencies_or_test_extras(
        packages: tuple[str, ...]) -> None:
    assert _undeclared(packages, DECLARED_FOR_TESTS) == []
