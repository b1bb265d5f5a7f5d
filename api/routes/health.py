"""Liveness and readiness for load balancers and `muster serve` scripts."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.datastructures import State

from api.http.problems import problem_response, problem_specs
from db import migrate
from domain.values import Value


class Health(Value):
    status: str


@get("/health", tags=["operations"], summary="The process is up")
async def health() -> Health:
    return Health("ok")


@get("/ready", tags=["operations"], summary="Database reachable and migrations current",
     responses=problem_specs(503))
async def ready(request: Request, state: State) -> Response[Health]:
    try:
        async with state.pool.acquire(timeout=5) as conn:
            todo = await migrate.pending(conn)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return problem_response(request, 503, f"database unreachable: {type(exc).__name__}",
                                "not-ready")
    if todo:
        return problem_response(request, 503, f"migrations pending: {', '.join(todo)}",
                                "not-ready")
    return Response(Health("ready"))
