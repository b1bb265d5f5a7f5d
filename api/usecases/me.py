"""The signed-in person changing what is theirs: their own name and email (each school
keeps its own entry for them), their language (every school's messages to them), and
their phone, which becomes theirs once they confirm
it with a code texted to it (the change signs them out everywhere else:
api/usecases/identity.py). Each change is forgotten from this process's cached callers
after commit."""

from __future__ import annotations

from datetime import datetime

import msgspec

from api.usecases import identity, signin
from api.usecases.callers import Caller
from api.usecases.signin import Keys, Session
from api.usecases.unit_of_work import UnitOfWork
from db import users
from db.users import Reach
from domain.errors import Invalid
from domain.language import Language
from domain.signin import phone_change_text


async def change_details(uow: UnitOfWork, caller: Caller, name: str | None,
                         email: str | msgspec.UnsetType | None, language: Language | None,
                         now: datetime) -> tuple[str, str | None, Language]:
    """Their name, email and language as now stored: `name` or `language` None keeps it,
    `email` UNSET keeps it (None clears it)."""
    name = name or caller.name
    email = caller.email if email is msgspec.UNSET else email
    async with uow:
        await users.set_own_details(uow.conn, caller.user_id, name, email)
        if language is not None and language is not caller.language:
            await identity.set_language(uow.conn, caller.user_id, caller.user_id, language, now)
        uow.forget_callers([caller.user_id])
    return name, email, language or caller.language


async def ask_to_change_phone(uow: UnitOfWork, keys: Keys, caller: Caller, phone: str,
                              address: str, now: datetime) -> str | None:
    """A code to make `phone` theirs, limited as sign-in codes are (SlowDown); the text
    to send it in when no one has the phone (None: nothing is sent)."""
    async with uow:
        code = await signin.new_code(uow.conn, keys, phone, address, now,
                                     for_user=caller.user_id)
        free = await users.find_user_id_by_phone(uow.conn, phone) is None
    return phone_change_text(code, caller.language) if free else None


async def confirm_phone(uow: UnitOfWork, keys: Keys, caller: Caller, phone: str, code: str,
                        address: str, now: datetime) -> tuple[Session, Reach | None]:
    """With the code texted to it, the phone becomes theirs, and this device's new
    session; and the phone they had, to be told (None: it was this one). Conflict if
    someone has the phone by now."""
    if not await signin.use_code(uow, keys, phone, code, address, now, caller.user_id):
        raise Invalid(signin.REFUSED, field="code")
    async with uow:
        old = await identity.change_phone(uow.conn, caller.user_id, caller.user_id, phone, now)
        session = await signin.open_session(uow.conn, keys, caller.user_id, now)
        uow.forget_callers([caller.user_id])
    return session, old
