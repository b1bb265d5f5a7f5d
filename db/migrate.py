"""Plain-SQL migrations: `db/migrations/NNNN_name.sql`, applied in order, each once.

Every process that starts (`muster serve`, `muster migrate`, replicas) runs
`migrate`; a session advisory lock makes concurrent starts apply each file
exactly once, and a checksum catches an applied file that was edited later.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from db.pool import Connection
from domain.values import Value

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant unique to Muster; pg_advisory_lock takes a bigint.
_LOCK_ID = 0x6D75_7374_6572


class Migration(Value):
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(Exception):
    """The database's migration history does not match the files."""


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files, ordered by their numeric prefix."""
    files = sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [Migration(f.stem, f.read_text()) for f in files]


_CREATE_HISTORY = """
create table if not exists schema_migrations (
    version text primary key,
    checksum text not null,
    applied_at timestamptz not null default now()
)"""


async def migrate(conn: Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations under the advisory lock; return the versions applied."""
    migrations = available() if migrations is None else migrations
    await conn.execute("select pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(_CREATE_HISTORY)
        todo = await _pending(conn, migrations)
        for migration in todo:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "insert into schema_migrations (version, checksum) values ($1, $2)",
                    migration.version,
                    migration.checksum,
                )
        return [m.version for m in todo]
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_ID)


async def pending(conn: Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Versions not yet applied (for /ready); raises MigrationError on a mismatch."""
    migrations = available() if migrations is None else migrations
    has_table = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    if not has_table:
        return [m.version for m in migrations]
    return [m.version for m in await _pending(conn, migrations)]


async def _pending(conn: Connection, migrations: list[Migration]) -> list[Migration]:
    rows = await conn.fetch("select version, checksum from schema_migrations")
    applied = {r["version"]: r["checksum"] for r in rows}
    for m in migrations:
        if m.version in applied and applied[m.version] != m.checksum:
            raise MigrationError(f"migration {m.version} was changed after it was applied")
    unknown = set(applied) - {m.version for m in migrations}
    if unknown:
        raise MigrationError(f"database has migrations this version lacks: {sorted(unknown)}")
    return [m for m in migrations if m.version not in applied]
