"""Access tokens for operators and scripts (`muster token`)."""

from __future__ import annotations

import asyncpg

from api.http.auth import issue_access_token
from api.settings import Settings, jwt_secret
from api.usecases.phones import to_e164
from db import users
from domain.errors import Invalid


async def token_for_phone(conn: asyncpg.Connection, settings: Settings, phone: str) -> str:
    """A fresh access token for the user with `phone`; LookupError if there is none."""
    from api.app import utc_now

    try:
        e164 = to_e164(phone)
    except Invalid as exc:
        raise LookupError(str(exc)) from None
    user_id = await users.find_user_id_by_phone(conn, e164)
    if user_id is None:
        raise LookupError(f"no user with phone {e164}")
    return issue_access_token(user_id, jwt_secret(settings), utc_now(), settings.access_token_ttl)
