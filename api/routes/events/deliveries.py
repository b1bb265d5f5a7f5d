"""Who has been alerted about an event, on which channel, and who acknowledged."""

from __future__ import annotations

import uuid

from litestar import Router, get
from litestar.params import FromPath

from api.http.deps import CallerOf, Conn
from api.http.pagination import ById, Cursor, Limit, decode_cursor, paginate
from api.http.problems import problem_specs
from api.usecases.access import load_event_as
from db import deliveries as db
from domain.policy import Permission
from domain.values import Value


class Deliveries(Value, kw_only=True):
    """Counts per channel (`push`, `sms`, `voice`) over the whole event, and a page of messages."""

    channels: dict[str, db.ChannelCounts]
    items: list[db.DeliveryRow]
    next_cursor: str | None


@get("/{event_id:uuid}/deliveries", summary="Notification delivery and acknowledgements",
     responses=problem_specs(400, 401, 403, 404))
async def deliveries(conn: Conn, caller: CallerOf, event_id: FromPath[uuid.UUID],
                     limit: Limit = 50, cursor: Cursor = None) -> Deliveries:
    ctx, role = await load_event_as(conn, caller, event_id)
    ctx.policy.require(role, Permission.READ_REPORTS)
    (after,) = decode_cursor(cursor, ById) or (0,)
    rows = await db.delivery_rows(conn, event_id, after, limit + 1)
    items, next_cursor = paginate(rows, limit, lambda row: (row.id,))
    return Deliveries(channels=await db.delivery_counts(conn, event_id), items=items,
                      next_cursor=next_cursor)


router = Router("/", route_handlers=[deliveries], tags=["notifications"])
