"""The signed-in person: who they are, where they belong, and their phones (changing
their details and phone: api/usecases/me.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.http.auth import session_cookie
from api.http.body import Body
from api.http.deps import CallerOf, Conn, Keys, Now, Texts, Work
from api.http.problems import problem_specs
from api.http.text import Email, Name
from api.http.texting import told
from api.routes.auth import (
    Code,
    CodeSent,
    Phone,
    Tokens,
    UserOut,
    client_address,
    code_sent,
    memberships,
    tokens,
)
from api.usecases import me as usecases
from api.usecases import signin
from api.usecases.phones import to_e164
from db import devices as db
from db.devices import Device
from domain.errors import NotFound
from domain.language import Language

# Clears the browser's cookie (not Secure, so that it also clears over http; over https a
# browser lets it replace the Secure one).
ENDED = session_cookie(None, max_age=0, secure=False)
PushToken = Annotated[str, msgspec.Meta(min_length=1, max_length=4096, pattern=r"^[^\x00\s]+$")]


class DeviceIn(Body):
    platform: Literal["ios", "android", "web"]
    push_token: PushToken  # the FCM registration token


class Me(UserOut, kw_only=True):
    devices: list[Device]


class MeChange(Body, kw_only=True):
    """Your own name, email or language; a field left out keeps its value (`email` null
    clears it). Schools keep their own entries for you; your language is yours at every
    school: every message Muster sends you is in it."""

    name: Name | None = None
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    language: Language | None = None


class NewPhone(Body):
    phone: Phone


class PhoneConfirmation(Body, kw_only=True):
    phone: Phone
    code: Code  # the code texted to `phone`


@get("/", summary="The signed-in user, their schools and phones",
     responses=problem_specs(401))
async def me(conn: Conn, caller: CallerOf) -> Me:
    return Me(id=caller.user_id, name=caller.name, phone=caller.phone, email=caller.email,
              memberships=memberships(caller.roles), language=caller.language,
              devices=await db.user_devices(conn, caller.user_id))


@patch("/", summary="Change your own name, email or language",
       responses=problem_specs(400, 401))
async def change_me(uow: Work, caller: CallerOf, now: Now, data: JSONBody[MeChange]) -> Me:
    name, email, language = await usecases.change_details(uow, caller, data.name, data.email,
                                                          data.language, now)
    return Me(id=caller.user_id, name=name, phone=caller.phone, email=email,
              memberships=memberships(caller.roles), language=language,
              devices=await db.user_devices(uow.conn, caller.user_id))


@post("/phone", status_code=202, summary="Text a code to your new phone",
      responses=problem_specs(400, 401, 429))
async def ask_to_change_phone(uow: Work, keys: Keys, texts: Texts, caller: CallerOf, now: Now,
                              request: Request, data: JSONBody[NewPhone]) -> Response[CodeSent]:
    """A 6-digit code, valid 5 minutes, goes by SMS to the new phone when no one has it;
    the answer is the same either way. Asking is limited as sign-in codes are (429)."""
    phone = to_e164(data.phone)
    text = await usecases.ask_to_change_phone(uow, keys, caller, phone,
                                              client_address(request), now)
    return code_sent(texts, phone, text)


@post("/phone/confirm", status_code=200, summary="Make the new phone yours",
      responses=problem_specs(400, 401, 409, 429))
async def confirm_phone(uow: Work, keys: Keys, texts: Texts, caller: CallerOf, now: Now,
                        request: Request, data: JSONBody[PhoneConfirmation]) -> Response[Tokens]:
    """With the code texted to it, the phone becomes yours: every session of yours ends
    and your registered phones are removed (register this one again), this device gets
    new tokens, and the phone you had is told. 409 if someone has the phone by now."""
    phone = to_e164(data.phone)
    session, old = await usecases.confirm_phone(uow, keys, caller, phone, data.code,
                                                client_address(request), now)
    return Response(tokens(keys, session, now), background=told(texts, old, phone))


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


@delete("/session", status_code=204, summary="Sign out the session this request is from",
        responses=problem_specs(401), response_cookies=[ENDED])
async def end_session(uow: Work, caller: CallerOf, now: Now) -> None:
    """Ends this sign-in (a browser's, or an app's by its access token) and clears the
    browser's session cookie. An operator's token (`muster token`) belongs to no session:
    there is nothing to end, and it lasts until it expires."""
    if caller.session_id is not None:
        await signin.end_session(uow, caller.user_id, caller.session_id, now)


router = Router("/me", route_handlers=[me, change_me, ask_to_change_phone, confirm_phone,
                                     register_device, remove_device, end_session], tags=["me"])
