"""The signed-in person: who they are, where they belong, and their phones."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Response, Router, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.deps import CallerOf, Conn, Now
from api.problems import problem_specs
from api.signin import UserOut, memberships
from db import devices as db
from db.devices import Device
from domain.errors import NotFound

PushToken = Annotated[str, msgspec.Meta(min_length=1, max_length=4096, pattern=r"^[^\x00\s]+$")]


class DeviceIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    platform: Literal["ios", "android", "web"]
    push_token: PushToken  # the FCM registration token


class Me(UserOut, frozen=True, kw_only=True):
    devices: list[Device]


@get("/", summary="The signed-in user, their schools and phones",
     responses=problem_specs(401))
async def me(conn: Conn, caller: CallerOf) -> Me:
    return Me(id=caller.user_id, name=caller.name, phone=caller.phone,
              memberships=memberships(caller.roles),
              devices=await db.user_devices(conn, caller.user_id))


@post("/devices", summary="Register this phone for alerts",
      responses={200: ResponseSpec(Device, description="Already this user's; marked seen"),
                 **problem_specs(400, 401)})
async def register_device(conn: Conn, caller: CallerOf, now: Now,
                          data: JSONBody[DeviceIn]) -> Response[Device]:
    """201 for a token new to this user (also one moved from another user: a push token
    reaches one person only); 200 when it was already theirs, marking it seen."""
    device, new_here = await db.register_device(conn, caller.user_id, caller.session_id,
                                                data.platform, data.push_token, now)
    return Response(device, status_code=201 if new_here else 200)


@delete("/devices/{device_id:uuid}", status_code=204, summary="Stop alerts to a phone",
        responses=problem_specs(400, 401, 404))
async def remove_device(conn: Conn, caller: CallerOf, device_id: FromPath[uuid.UUID]) -> None:
    if not await db.delete_device(conn, device_id, caller.user_id):
        raise NotFound(f"no device {device_id}")


router = Router("/me", route_handlers=[me, register_device, remove_device], tags=["me"])
