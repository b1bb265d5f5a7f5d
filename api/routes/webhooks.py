"""Provider callbacks: Twilio's SMS status receipts, accepted only when signed."""

from __future__ import annotations

from litestar import Request, Router, post
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException

from api.http.deps import Conn, Now
from api.http.problems import problem_specs
from db import receipts
from domain.alerts import Channel
from notifications.twilio_sms import status_callback_outcome, validate_status_callback

TWILIO_STATUS_PATH = "/v1/webhooks/twilio/status"


@post("/twilio/status", status_code=204, summary="Twilio SMS status callback (signed)",
      responses=problem_specs(403))
async def twilio_status(request: Request, state: State, conn: Conn, now: Now) -> None:
    """Validated against MUSTER_PUBLIC_URL, never the request's own URL (proxies change it)."""
    settings = state.settings
    form = dict(await request.form())
    url = settings.base_url + TWILIO_STATUS_PATH
    signature = request.headers.get("x-twilio-signature", "")
    if not settings.twilio_auth_token or not validate_status_callback(
            settings.twilio_auth_token, url, form, signature):
        raise PermissionDeniedException("the request is not signed by our Twilio account")
    outcome = status_callback_outcome(form.get("MessageStatus", ""), form.get("ErrorCode"))
    if outcome is not None and form.get("MessageSid") and await receipts.record_receipt(
            conn, form["MessageSid"], outcome, form.get("ErrorCode") or None, now):
        state.metrics.count_receipt(Channel.SMS, outcome)


router = Router("/v1/webhooks", route_handlers=[twilio_status], tags=["webhooks"])
