"""The signed-in person: who they are, where they belong, and their phones.

Their name and email here are their own (each school keeps its own entry for them). Their
phone is how they sign in: a new one is theirs once they confirm it with a code texted to
it, and the change signs them out everywhere else (see api/usecases/identity.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.http.deps import CallerOf, Conn, Now
from api.http.phones import to_e164
from api.http.problems import problem_specs
from api.http.text import Email, Name
from api.http.texting import told
from api.routes.auth import (
    Code,
    CodeSent,
    Phone,
    Tokens,
    UserOut,
    code_sent,
    memberships,
    new_code,
    open_session,
    use_code,
)
from api.usecases import identity
from db import devices as db
from db import users
from db.devices import Device
from domain.errors import Invalid, NotFound
from domain.signin import phone_change_text

PushToken = Annotated[str, msgspec.Meta(min_length=1, max_length=4096, pattern=r"^[^\x00\s]+$")]


class DeviceIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    platform: Literal["ios", "android", "web"]
    push_token: PushToken  # the FCM registration token


class Me(UserOut, frozen=True, kw_only=True):
    devices: list[Device]


class MeChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Your own name or email; a field left out keeps its value (`email` null clears it).
    Schools keep their own entries for you."""

    name: Name | None = None
    email: Email | msgspec.UnsetType | None = msgspec.UNSET


class NewPhone(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phone: Phone


class PhoneConfirmation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    phone: Phone
    code: Code  # the code texted to `phone`


@get("/", summary="The signed-in user, their schools and phones",
     responses=problem_specs(401))
async def me(conn: Conn, caller: CallerOf) -> Me:
    return Me(id=caller.user_id, name=caller.name, phone=caller.phone, email=caller.email,
              memberships=memberships(caller.roles),
              devices=await db.user_devices(conn, caller.user_id))


@patch("/", summary="Change your own name or email", responses=problem_specs(400, 401))
async def change_me(conn: Conn, caller: CallerOf, state: State, data: JSONBody[MeChange]) -> Me:
    name = data.name or caller.name
    email = caller.email if data.email is msgspec.UNSET else data.email
    await users.set_own_details(conn, caller.user_id, name, email)
    state.callers.forget(caller.user_id)
    return Me(id=caller.user_id, name=name, phone=caller.phone, email=email,
              memberships=memberships(caller.roles),
              devices=await db.user_devices(conn, caller.user_id))


@post("/phone", status_code=202, summary="Text a code to your new phone",
      responses=problem_specs(400, 401, 429))
async def ask_to_change_phone(conn: Conn, caller: CallerOf, now: Now, request: Request,
                              data: JSONBody[NewPhone]) -> Response[CodeSent]:
    """A 6-digit code, valid 5 minutes, goes by SMS to the new phone when no one has it;
    the answer is the same either way. Asking is limited as sign-in codes are (429)."""
    phone = to_e164(data.phone)
    async with conn.transaction():
        code = await new_code(conn, request, phone, now, for_user=caller.user_id)
        free = await users.find_user_id_by_phone(conn, phone) is None
    return code_sent(request, phone, phone_change_text(code) if free else None)


@post("/phone/confirm", status_code=200, summary="Make the new phone yours",
      responses=problem_specs(400, 401, 409, 429))
async def confirm_phone(conn: Conn, caller: CallerOf, now: Now, request: Request,
                        data: JSONBody[PhoneConfirmation]) -> Response[Tokens]:
    """With the code texted to it, the phone becomes yours: every session of yours ends
    and your registered phones are removed (register this one again), this device gets
    new tokens, and the phone you had is told. 409 if someone has the phone by now."""
    state, phone = request.app.state, to_e164(data.phone)
    if not await use_code(conn, request, phone, data.code, now, caller.user_id):
        raise Invalid("that code is wrong, used or expired; ask for a new one", field="code")
    async with conn.transaction():
        old = await identity.change_phone(conn, caller.user_id, caller.user_id, phone, now)
        tokens = await open_session(conn, state, caller.user_id, now)
    state.callers.forget(caller.user_id)
    return Response(tokens, background=told(state.texts, old, phone))


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


router = Router("/me", route_handlers=[me, change_me, ask_to_change_phone, confirm_phone,
                                     register_device, remove_device], tags=["me"])
