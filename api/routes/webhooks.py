"""Provider callbacks, accepted only when signed by our Twilio account: SMS status
receipts, and a voice call's end and keypress."""

from __future__ import annotations

from litestar import Request, Response, Router, post
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException

from api.http.deps import Conn, Now, Work
from api.http.problems import problem_specs
from api.usecases import calls as usecases
from db import calls, receipts
from domain.alerts import Channel
from notifications.twilio import validate_signature
from notifications.twilio_sms import status_callback_outcome
from notifications.twilio_voice import ask_again_twiml, confirmed_twiml, empty_twiml

TWILIO_STATUS_PATH = "/v1/webhooks/twilio/status"
TWILIO_VOICE_PATH = "/v1/webhooks/twilio/voice"
TWILIO_KEYPRESS_PATH = "/v1/webhooks/twilio/voice/keypress"
TWIML = "text/xml"


async def _signed_form(request: Request, state: State, path: str) -> dict[str, str]:
    """The callback's form, once its signature is checked against MUSTER_PUBLIC_URL +
    `path`, never the request's own URL (proxies change it)."""
    settings = state.settings
    form = dict(await request.form())
    signature = request.headers.get("x-twilio-signature", "")
    if not settings.twilio_auth_token or not validate_signature(
            settings.twilio_auth_token, settings.base_url + path, form, signature):
        raise PermissionDeniedException("the request is not signed by our Twilio account")
    return form


@post("/twilio/status", status_code=204, summary="Twilio SMS status callback (signed)",
      responses=problem_specs(403))
async def twilio_status(request: Request, state: State, conn: Conn, now: Now) -> None:
    form = await _signed_form(request, state, TWILIO_STATUS_PATH)
    outcome = status_callback_outcome(form.get("MessageStatus", ""), form.get("ErrorCode"))
    if outcome is not None and form.get("MessageSid") and await receipts.record_receipt(
            conn, form["MessageSid"], outcome, form.get("ErrorCode") or None, now):
        state.metrics.count_receipt(Channel.SMS, outcome)


@post("/twilio/voice", status_code=204, summary="Twilio voice call status callback (signed)",
      responses=problem_specs(403))
async def twilio_voice(request: Request, state: State, conn: Conn, now: Now) -> None:
    """A call's end: delivered if someone pressed 1, else called again (3 calls at most)."""
    form = await _signed_form(request, state, TWILIO_VOICE_PATH)
    if not form.get("CallSid"):
        return
    end = await calls.record_call_end(conn, form["CallSid"], form.get("CallStatus", ""),
                                      form.get("ErrorCode") or None, now)
    if end is not None:
        state.metrics.count_receipt(Channel.VOICE, end.outcome)


@post("/twilio/voice/keypress", status_code=200, media_type=TWIML,
      summary="Twilio voice keypress (the call's Gather action, signed)",
      responses=problem_specs(403))
async def twilio_keypress(request: Request, state: State, uow: Work, now: Now) -> Response[str]:
    """1 confirms the call was heard (TwiML says so); another key asks again."""
    form = await _signed_form(request, state, TWILIO_KEYPRESS_PATH)
    pressed = form.get("CallSid") and await usecases.keypress(
        uow, form["CallSid"], form.get("Digits", ""), now)
    if not pressed:
        return Response(empty_twiml(), media_type=TWIML)
    language, confirmed = pressed
    keypress_url = state.settings.base_url + TWILIO_KEYPRESS_PATH
    return Response(confirmed_twiml(language) if confirmed
                    else ask_again_twiml(language, keypress_url), media_type=TWIML)


router = Router("/v1/webhooks", route_handlers=[twilio_status, twilio_voice, twilio_keypress],
                tags=["webhooks"])
