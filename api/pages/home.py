"""Signing in in a browser, and the page a signed-in person lands on: their schools.

A page that needs a signed-in person and is opened without one redirects to the sign-in
page, which brings them back (`next`) once the code is accepted.
"""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect, Template

from api.http.auth import csrf_token
from api.http.deps import CallerOf, Conn
from api.pages.rendering import page
from api.usecases.callers import Caller
from db import schools as db


def csrf_of(request: Request, caller: Caller) -> str:
    """The CSRF token a page hands its scripts (empty for a token without a session,
    which a browser never holds)."""
    if caller.session_id is None:
        return ""
    return csrf_token(request.app.state.secret, caller.session_id)


def to_sign_in(request: Request, _: NotAuthorizedException) -> Response[None]:
    """A page asked for without a (live) session: sign in, then come back."""
    return Redirect(f"/signin?next={quote(request.url.path)}", status_code=303)


@get("/signin", include_in_schema=False, exclude_from_auth=True)
async def sign_in() -> Template:
    """The phone, then the code texted to it (the scripts call /v1/auth/otp and
    /v1/auth/browser)."""
    return page("signin.html", csrf="")


@get("/", include_in_schema=False)
async def home(request: Request, conn: Conn, caller: CallerOf) -> Template:
    """The schools the person reaches today, each with a link to its page."""
    schools = await db.list_schools(conn, caller.roles.keys(), None, 1000)
    return page("home.html", csrf=csrf_of(request, caller), caller=caller,
                schools=[(school, caller.roles[school.id]) for school in schools])
