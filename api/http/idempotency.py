"""The Idempotency-Key header, for the routes whose retries must not do the work twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import HeaderParameter

from api.usecases.callers import Caller
from api.usecases.idempotency import FirstAnswer, once
from api.usecases.unit_of_work import UnitOfWork
from domain.idempotency import KeyScope

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", min_length=1, max_length=200,
                    description="A retry by the same caller to the same method and path, "
                                "with the same key and body, gets the first answer; the same "
                                "key with another body is 422. A key is kept for 24 h."),
]


async def idempotently(request: Request[Any, Any, Any], uow: UnitOfWork, caller: Caller,
                       now: datetime, key: str | None, status: int,
                       work: Callable[[], Awaitable[Any]]) -> Response[Any]:
    """`work`'s answer with `status`; with a key, the first answer to a retry of it (the
    body is read for its fingerprint only then)."""
    if key is None:
        return Response(await work(), status_code=status)
    scope = KeyScope(caller.user_id, request.method, request.url.path, key)
    result = await once(uow, scope, await request.body(), now, status, work)
    if isinstance(result, FirstAnswer):
        return Response(result.body, status_code=result.status)
    return Response(result, status_code=status)
