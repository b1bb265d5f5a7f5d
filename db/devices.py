"""Queries about a user's phones: the push tokens alerts go to."""

from __future__ import annotations

import uuid
from datetime import datetime

from db.pool import Connection
from domain.values import Value


class Device(Value, kw_only=True):
    id: uuid.UUID
    platform: str
    created_at: datetime
    last_seen_at: datetime
    disabled_at: datetime | None  # FCM rejected the token; the app should register a new one
    disabled_reason: str | None


_COLUMNS = "id, platform, created_at, last_seen_at, disabled_at, disabled_reason"

# register_device -- a push token belongs to one user: registering it again moves it
# here (a shared or handed-down phone), re-enables it and marks it seen
_REGISTER_DEVICE = f"""
with before as (select user_id from devices where push_token = $4)
insert into devices (id, user_id, session_id, platform, push_token, created_at, last_seen_at)
values ($1, $2, $3, $5, $4, $6, $6)
on conflict (push_token) do update
   set user_id = excluded.user_id, session_id = excluded.session_id,
       platform = excluded.platform, last_seen_at = excluded.last_seen_at,
       disabled_at = null, disabled_reason = null
returning {_COLUMNS}, (select user_id from before) as previous_owner
"""


async def register_device(conn: Connection, user_id: uuid.UUID,
                          session_id: uuid.UUID | None, platform: str, push_token: str,
                          now: datetime) -> tuple[Device, bool]:
    """The device, and whether it is new to this user (created, or moved from another)."""
    record = await conn.fetchrow(_REGISTER_DEVICE, uuid.uuid4(), user_id, session_id,
                                 push_token, platform, now)
    assert record is not None  # an upsert returns its row
    row = dict(record)
    new_here = row.pop("previous_owner") != user_id
    return Device(**row), new_here


# user_devices -- a user's registered phones, oldest first
_USER_DEVICES = f"select {_COLUMNS} from devices where user_id = $1 order by created_at, id"


async def user_devices(conn: Connection, user_id: uuid.UUID) -> list[Device]:
    return [Device(**dict(r)) for r in await conn.fetch(_USER_DEVICES, user_id)]


# delete_device -- only the owner's own device
_DELETE_DEVICE = "delete from devices where id = $1 and user_id = $2 returning id"


async def delete_device(conn: Connection, device_id: uuid.UUID,
                        user_id: uuid.UUID) -> bool:
    return await conn.fetchval(_DELETE_DEVICE, device_id, user_id) is not None


# remove_all -- every phone registered for the person
_REMOVE_ALL = "with gone as (delete from devices where user_id = $1 returning 1) " \
              "select count(*) from gone"


async def remove_all(conn: Connection, user_id: uuid.UUID) -> int:
    """Alerts stop going to any of the person's phones; how many there were."""
    removed: int = await conn.fetchval(_REMOVE_ALL, user_id)
    return removed


async def disable_devices(conn: Connection, push_tokens: tuple[str, ...], reason: str,
                          at: datetime) -> None:
    """Devices whose tokens the push provider called dead (the app was uninstalled or
    re-registered): no more pushes to them, and readiness shows it."""
    await conn.execute("update devices set disabled_at = $2, disabled_reason = $3 "
                       "where push_token = any($1::text[]) and disabled_at is null",
                       list(push_tokens), at, reason)
