"""`muster`: serve the API, migrate, seed demo data, mint tokens, export OpenAPI, print
drill reports."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
import msgspec

from api.settings import Settings, SettingsError, jwt_secret, load_settings

if TYPE_CHECKING:
    import asyncpg
    from litestar import Litestar

    from api.usecases.drill_record import EventReport

T = TypeVar("T")
OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(None, **overrides)  # os.environ, these on top
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _database_url(settings: Settings) -> str:
    """MUSTER_DATABASE_URL, or the embedded server (started or reused) in the data dir."""
    if settings.database_url:
        return settings.database_url
    from db.embedded import start_embedded
    from db.pool import ensure_database

    return asyncio.run(ensure_database(start_embedded(settings.data_path), "muster"))


def _with_connection(url: str, work: Callable[..., Awaitable[T]]) -> T:
    """Run `work(conn)` on a migrated database; a migration problem is one line."""
    from db.migrate import MigrationError, migrate
    from db.pool import connect

    async def run() -> T:
        conn = await connect(url)
        try:
            await migrate(conn)
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except MigrationError as exc:
        raise click.ClickException(f"database: {exc}") from None


def _configure_logging(settings: Settings) -> None:
    from api.http.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)


@click.group(help=__doc__)
def cli() -> None:
    pass


@cli.command()
@click.option("--host", help="Listen address (MUSTER_HOST).")
@click.option("--port", type=int, help="Listen port (MUSTER_PORT).")
@click.option("--demo", is_flag=True, help="Seed the demo district first (idempotent).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="API processes on this host, each with its own dispatcher (unless "
                   "--dispatchers or --no-dispatch).")
@click.option("--no-dispatch", is_flag=True,
              help="Send no notifications from the API's processes: `muster worker` "
                   "processes do (MUSTER_DISPATCH=false).")
@click.option("--dispatchers", type=click.IntRange(0, 16), default=0, show_default=True,
              help="Dispatcher processes to run beside the API, which then sends nothing "
                   "itself; they share MUSTER_SMS_RATE and MUSTER_VOICE_RATE (0: the API's "
                   "processes dispatch).")
def serve(host: str | None, port: int | None, demo: bool, workers: int,
          no_dispatch: bool, dispatchers: int) -> None:
    """Serve the API (embedded PostgreSQL unless MUSTER_DATABASE_URL is set)."""
    from api.cli.dispatchers import dispatcher_processes, environ_for_dispatchers

    settings = _settings(host=host, port=port,
                         dispatch=False if no_dispatch or dispatchers else None)
    _configure_logging(settings)
    url = _database_url(settings)
    if demo:
        _seed_and_report(settings, url, as_json=False)
    else:
        _with_connection(url, _nothing)  # migrate now: a problem is one line, not a trace
    secret = jwt_secret(settings)  # generated (once) before any other process reads it
    with dispatcher_processes(dispatchers,
                              environ_for_dispatchers(settings, url, dispatchers)):
        _serve(settings, url, secret, workers)


def _serve(settings: Settings, url: str, secret: str, workers: int) -> None:
    import uvicorn

    from api.cli.dispatchers import serving_environ
    from api.http.serving import collect_less, uvicorn_options

    serving = uvicorn_options(settings)
    click.echo(f"Muster: open {settings.base_url}/ in a browser (API docs at /schema)")
    if workers == 1:
        from api.app import create_app

        app = create_app(settings, database_url=url, secret=secret, dispatch=settings.dispatch)
        collect_less()
        uvicorn.run(app, **serving)
        return
    # Worker processes build their app from the environment
    os.environ.update(serving_environ(settings, url)
                      | {"MUSTER_DISPATCH": str(settings.dispatch).lower()})
    uvicorn.run("api.cli.main:worker_app", factory=True, workers=workers, **serving)


def worker_app() -> Litestar:
    """The app of one process of `muster serve --workers N` (uvicorn imports this)."""
    from api.app import create_app
    from api.http.serving import collect_less

    settings = _settings()
    _configure_logging(settings)
    app = create_app(settings, database_url=settings.database_url or "",
                     secret=jwt_secret(settings), dispatch=settings.dispatch)
    collect_less()
    return app


@cli.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations, then exit."""
    from db.migrate import migrate as apply

    settings = _settings()
    applied = _with_connection(_database_url(settings), apply)
    click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print ids and access tokens as JSON.")
def demo(as_json: bool) -> None:
    """Seed a demo district with two schools (idempotent) and print how to sign in."""
    settings = _settings()
    _seed_and_report(settings, _database_url(settings), as_json=as_json)


def _seed_and_report(settings: Settings, url: str, *, as_json: bool) -> None:
    from api.cli.demo import demo_report, summary
    from db.demo import seed_demo

    seeded = _with_connection(url, seed_demo)
    report = demo_report(seeded, jwt_secret(settings), settings.access_token_ttl)
    _write_private(settings.data_path / "demo.json",
                   msgspec.json.format(msgspec.json.encode(report)))
    if as_json:
        click.echo(msgspec.json.encode(report).decode())
    else:
        click.echo(summary(report, settings.data_path / "demo.json", settings.base_url))


def _write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner may read (it holds live access tokens): written to a
    new mode-600 file beside it, then renamed over it, so no reader ever sees it open to
    others, not even an older copy that was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


@cli.command()
@click.option("--phone", required=True, help="The user's phone, e.g. +15125550100.")
def token(phone: str) -> None:
    """Print an access token for the user with this phone (operators, scripts)."""
    from api.cli.tokens import token_for_phone

    settings = _settings()
    try:
        click.echo(_with_connection(_database_url(settings),
                                    lambda conn: token_for_phone(conn, settings, phone)))
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.option("--check", is_flag=True, help="Exit 1 if the committed file differs from the app.")
@click.option("--output", type=click.Path(path_type=Path), default=OPENAPI_FILE,
              show_default=True)
def openapi(check: bool, output: Path) -> None:
    """Write the OpenAPI document generated from the app (or check it is current)."""
    from api.cli.openapi import render_openapi

    text = render_openapi()
    if check:
        if not output.exists() or output.read_text() != text:
            raise click.ClickException(f"{output} is out of date: run `muster openapi`")
        click.echo(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    click.echo(f"wrote {output}")


@cli.command()
@click.argument("event_id", type=click.UUID)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the printable page (report.html) to this file.")
def report(event_id: uuid.UUID, html_file: Path | None) -> None:
    """Print an event's drill timing record as a table (and write its printable page)."""
    from api.app import utc_now
    from api.rendering.report_html import render
    from api.rendering.report_text import to_terminal
    from api.usecases.drill_record import report_of
    from db.events import load_event
    from domain.errors import NotFound

    async def load(conn: asyncpg.Connection) -> EventReport:
        return await report_of(conn, (await load_event(conn, event_id)).event, utc_now())

    try:
        record = _with_connection(_database_url(_settings()), load)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(to_terminal(record), nl=False)
    if html_file:
        try:
            html_file.write_text(render(record))
        except OSError as exc:
            raise click.ClickException(f"cannot write {html_file}: {exc.strerror}") from None
        click.echo(f"wrote {html_file}")


@cli.command()
@click.option("--stop-with", "parent", type=int, hidden=True,
              help="Stop when the process with this pid (muster serve) is gone.")
def worker(parent: int | None) -> None:
    """Send queued notifications without serving the API (run several to scale out)."""
    import uvloop

    from api.http.serving import collect_less

    settings = _settings()
    _configure_logging(settings)
    url = _database_url(settings)
    _with_connection(url, _nothing)  # migrate now: a problem is one line, not a trace
    collect_less()  # as `muster serve`: with the collector's defaults a push cost 0.66 ms, not 0.46
    uvloop.run(_dispatch_until_stopped(settings, url, parent))


@cli.command("import")
@click.argument("kind", type=click.Choice(["staff", "rooms", "students", "oneroster"]))
@click.argument("path", type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--school", "school_id", type=click.UUID,
              help="The school's id (GET /v1/schools lists them).")
@click.option("--district", "district_id", type=click.UUID,
              help="oneroster only: every school of the district an org matches.")
def import_(kind: str, path: Path, school_id: uuid.UUID | None,
            district_id: uuid.UUID | None) -> None:
    """Import a school's staff, rooms or students from a CSV file at PATH ('-' reads
    standard input), or a OneRoster 1.1 export (PATH a zip or a folder) for a school or a
    whole district. Everything is checked first: one bad row and nothing is imported.
    Columns and rules: see the README and docs/roster.md."""
    from api.app import utc_now
    from api.cli.admin import import_file, import_oneroster, oneroster_files, row_lines
    from domain.errors import DomainError
    from domain.roster import InvalidRows

    if kind != "oneroster" and (school_id is None or district_id is not None):
        raise click.UsageError(f"{kind}: give --school ID")
    if kind == "oneroster" and (school_id is None) == (district_id is None):
        raise click.UsageError("oneroster: give --school ID or --district ID, one of them")
    settings = _settings()
    try:
        if kind == "oneroster":
            files = oneroster_files(path)
            lines = _with_connection(_database_url(settings), lambda conn: import_oneroster(
                conn, files, utc_now(), school_id=school_id, district_id=district_id))
        else:
            assert school_id is not None
            body = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
            lines = [_with_connection(_database_url(settings), lambda conn: import_file(
                conn, kind, school_id, body, utc_now()))]
    except InvalidRows as exc:
        for line in row_lines(exc):
            click.echo(line, err=True)
        raise click.ClickException(str(exc)) from None
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


@cli.group()
def roster() -> None:
    """A school's student data."""


@roster.command("erase")
@click.option("--school", "school_id", required=True, type=click.UUID,
              help="The school's id (GET /v1/schools lists them).")
@click.option("--confirm", prompt="Type the school's name to erase its student data",
              help="The school's name, to confirm (asked for when left out).")
def roster_erase(school_id: uuid.UUID, confirm: str) -> None:
    """Erase a school's student data: guardians, restrictions, classes, enrollments and the
    bell schedule are deleted; students keep their ids but are named "Erased"; so are the
    adults of its reunifications. All or nothing, on the audit trail (`roster_erased`)."""
    from api.app import utc_now
    from api.cli.admin import erase_roster
    from domain.errors import DomainError

    settings = _settings()
    try:
        click.echo(_with_connection(_database_url(settings), lambda conn: erase_roster(
            conn, school_id, confirm, utc_now())))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


async def _nothing(conn: object) -> None:
    """For `_with_connection` when only its migration is wanted."""


async def _dispatch_until_stopped(settings: Settings, url: str, parent: int | None) -> None:
    from api.app import utc_now
    from db.pool import create_pool
    from domain.links import Links
    from notifications.dispatcher import LEASE, Dispatcher
    from notifications.providers import open_senders

    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    watching = [] if parent is None else [asyncio.create_task(_stop_when_gone(parent, stop))]
    pool = await create_pool(url, max_size=settings.db_pool_size)
    try:
        providers = settings.providers()
        async with (open_senders(providers) as senders,
                    Dispatcher(pool, url, senders, utc_now, batch=providers.batches(LEASE),
                               links=Links(secret=jwt_secret(settings),
                                           base_url=settings.base_url),
                               repeats=settings.repeat_windows)):
            logging.getLogger("muster.notifications").info("worker dispatching; ^C to stop")
            await stop.wait()
    finally:
        for task in watching:
            task.cancel()
        await pool.close()


async def _stop_when_gone(parent: int, stop: asyncio.Event) -> None:
    """A dispatcher of `muster serve --dispatchers`: stop once the server is gone (it was
    killed before it could stop us: we are someone else's child now)."""
    while os.getppid() == parent:
        await asyncio.sleep(1)
    stop.set()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """Exit normally on SIGTERM so that atexit hooks run: the last `muster`
    process using the embedded PostgreSQL stops it on its way out.
    (uvicorn re-raises the signal it caught once it has shut down.)"""
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cli(prog_name="muster")
