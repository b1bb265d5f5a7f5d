"""The composition root: `create_app` wires settings, database and routes.

Nothing is read from the environment here; the CLI (or a test) passes
settings in, and the clock is an argument so that tests control time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from api import routes
from api.http.auth import jwt_auth
from api.http.deps import DEPENDENCIES
from api.http.logs import RequestLog
from api.http.metrics import Metrics
from api.http.problems import EXCEPTION_HANDLERS
from api.http.strict import StrictStructSchema, decode_strictly
from api.http.turns import StreamsInTurns
from api.pages import PAGES
from api.pages.assets import Assets
from api.pages.rendering import template_config
from api.routes.events.replay import ReplayPages
from api.routes.events.stream import OpenStreams
from api.settings import Settings
from api.usecases.callers import CallerCache
from api.usecases.event_cache import EventCache
from api.usecases.expected import ExpectedCache
from api.usecases.known_students import KnownStudents
from db import migrate
from db.checkin_writer import CheckinWriter
from db.feed import TimelineFeed
from db.pool import create_pool
from domain.alerts import Channel
from domain.links import Links
from notifications.dispatcher import LEASE, Dispatcher
from notifications.providers import open_senders

Clock = Callable[[], datetime]
API_VERSION = "1.0.0"
# The largest request body: a check-in is a few hundred bytes, a CSV roster of a big
# school some hundreds of KB. More is a mistake or an attack; it is refused with 413.
MAX_BODY_BYTES = 2 * 1024 * 1024
# The pages' HTML is gzipped for a phone on a slow connection (a 60-room school's check-in
# page: 9.4 KiB). The API's answers are not (a check-in storm would pay for it in CPU),
# nor streams, nor the static files (gzipped once, when read).
PAGES_GZIPPED = CompressionConfig(backend="gzip", gzip_compress_level=6, exclude=[
    "^/v1/", "^/static/", "^/health", "^/ready", "^/metrics", "^/schema"])


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings, *, database_url: str, secret: str,
               clock: Clock = utc_now, dispatch: bool = True) -> Litestar:
    """The Muster API; it connects and migrates when it starts serving, and (with
    `dispatch`) sends queued notifications from this process."""

    @asynccontextmanager
    async def running(app: Litestar) -> AsyncGenerator[None, None]:
        """While serving: the pool (after migrating), the live feed, the senders, the
        dispatcher."""
        pool = await create_pool(database_url, max_size=settings.db_pool_size)
        feed = TimelineFeed(database_url)
        try:
            async with pool.acquire() as conn:
                await migrate.migrate(conn)
            await feed.start()
            app.state.pool, app.state.feed = pool, feed
            app.state.checkins = CheckinWriter(pool)
            async with contextlib.AsyncExitStack() as background:
                providers = settings.providers()
                senders = await background.enter_async_context(open_senders(providers))
                app.state.texts = senders[Channel.SMS]  # sign-in codes go out from the API itself
                if dispatch:
                    await background.enter_async_context(Dispatcher(
                        pool, database_url, senders, clock, links=links,
                        repeats=settings.repeat_windows,
                        batch=providers.batches(LEASE), on_outcome=metrics.count_delivery))
                yield
        finally:
            await feed.stop()
            await pool.close()

    auth = jwt_auth(secret)
    links = Links(secret=secret, base_url=settings.base_url)
    metrics = Metrics()
    v1 = Router("/v1", route_handlers=routes.V1, security=[auth.security_requirement])
    assets = Assets()
    app = Litestar(
        route_handlers=[*routes.TOP, v1, PAGES],
        template_config=template_config(assets),
        compression_config=PAGES_GZIPPED,
        cors_config=_cors(settings),
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[auth.middleware],
        before_request=decode_strictly,
        request_max_body_size=MAX_BODY_BYTES,
        plugins=[StrictStructSchema()],
        lifespan=[running],
        state=State({"settings": settings, "clock": clock, "secret": secret, "links": links,
                     "callers": CallerCache(), "events": EventCache(),
                     "expected": ExpectedCache(), "students": KnownStudents(),
                     "metrics": metrics, "replays": ReplayPages(),
                     "streams": OpenStreams(), "assets": assets}),
        openapi_config=OpenAPIConfig(
            title="Muster API", version=API_VERSION, path="/schema",
            description="School emergency drills and lockdowns: events, room check-ins, "
                        "alerts and drill records. Errors are application/problem+json.",
            render_plugins=[ScalarRenderPlugin()],
            components=[auth.openapi_components],
        ),
        logging_config=None,
    )
    # Outside the router: Litestar runs middleware only once a route is found, so an
    # unknown path's 404, and a 401 raised by authentication, would escape it.
    app.asgi_handler = StreamsInTurns(RequestLog(app.asgi_handler, metrics.observe_request))
    return app


def _cors(settings: Settings) -> CORSConfig | None:
    """Scripts of the configured other origins may call the API with a bearer token (never
    with the browser session: cookies stay same-site); by default no other origin may."""
    origins = settings.cors_origin_list
    if not origins:
        return None
    return CORSConfig(allow_origins=origins, allow_credentials=False,
                      allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                      allow_headers=["Authorization", "Content-Type", "Idempotency-Key",
                                     "Last-Event-ID"], max_age=600)
