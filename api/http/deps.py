"""Per-request dependencies: a pooled connection (or a unit of work over one), the caller,
and `now` read once."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.security.jwt import Token

from api.settings import Settings
from api.usecases import signin
from api.usecases.callers import Caller
from api.usecases.unit_of_work import UnitOfWork
from domain.links import Links
from domain.repeats import RepeatWindows
from notifications.senders import TextSender

# What handlers ask for, by parameter name: `uow: Work` (or `conn: Conn` to only read),
# `caller: CallerOf`, `now: Now`; `texts: Texts` to send one after the answer, `keys: Keys`
# to sign someone in, `settings: Config` for what the operator configured, `links:
# AlertLinks` to alert people with their links to the event, `repeats: AlertRepeats` for
# when the alert is repeated to those who have not acknowledged it.
Conn = NamedDependency[asyncpg.Connection]
Work = NamedDependency[UnitOfWork]
CallerOf = NamedDependency[Caller]
Now = NamedDependency[datetime]
Texts = NamedDependency[TextSender]
Keys = NamedDependency[signin.Keys]
AlertLinks = NamedDependency[Links]
AlertRepeats = NamedDependency[RepeatWindows]
Config = NamedDependency[Settings]
# The routes a storm hammers take the request instead (see `caller_and_now`).
SignedIn = Request[Caller, Token, State]


def caller_and_now(request: SignedIn) -> tuple[Caller, datetime]:
    """`caller` and `now` without dependency injection, for the routes a check-in storm
    hammers: Litestar resolves two or more independent dependencies in an anyio task
    group, two tasks per request (litestar-org/litestar#4563), which cost a check-in a
    fifth of its server CPU."""
    return request.user, request.app.state.clock()


async def _provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    async with state.pool.acquire() as conn:
        yield conn


async def _provide_uow(state: State) -> AsyncGenerator[UnitOfWork, None]:
    async with state.pool.acquire() as conn:
        yield UnitOfWork(conn, events=state.events, callers=state.callers)


def _provide_now(state: State) -> datetime:
    return state.clock()


def _provide_texts(state: State) -> TextSender:
    return state.texts


def _provide_keys(state: State) -> signin.Keys:
    settings = state.settings
    return signin.Keys(secret=state.secret, access_ttl=settings.access_token_ttl,
                       refresh_ttl=settings.refresh_token_ttl)


def _provide_links(state: State) -> Links:
    return state.links


def _provide_repeats(state: State) -> RepeatWindows:
    return state.settings.repeat_windows


def _provide_settings(state: State) -> Settings:
    return state.settings


def _provide_caller(request: Request) -> Caller:
    return request.user


DEPENDENCIES = {
    "conn": Provide(_provide_conn),
    "uow": Provide(_provide_uow),
    "now": Provide(_provide_now, sync_to_thread=False),
    "caller": Provide(_provide_caller, sync_to_thread=False),
    "texts": Provide(_provide_texts, sync_to_thread=False),
    "keys": Provide(_provide_keys, sync_to_thread=False),
    "links": Provide(_provide_links, sync_to_thread=False),
    "repeats": Provide(_provide_repeats, sync_to_thread=False),
    "settings": Provide(_provide_settings, sync_to_thread=False),
}
