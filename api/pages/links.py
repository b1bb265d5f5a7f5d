"""An alert's link in a browser: `/e/<token>`, the page a person's SMS or push opens on
any phone, signed in or not, and `/e/sw.js`, the service worker that keeps the page for
reopening without a connection.

The page shows the action and its directive (DRILL or not, unmistakably), the newest
"what we know" update under them (its script asks the link's API for new ones while the
event is active), and reports the room through the link's API (/v1/links/<token>), with
its roll call: the room's students by name, one tap each (and a search for a student
from another room); its
script acknowledges when it opens on the phone, never the GET (docs/alerts.md#links). A
lockdown's page is dark and still.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from api.pages.rendering import page
from api.rendering.report_text import zone
from api.usecases import links
from api.usecases.links import Door, LinkPage
from domain import srp
from domain.errors import Expired, NotFound
from domain.language import Language
from domain.srp import Action, EventStatus

WORKER = "link-worker.js"  # in static/, served from /e/ so that its scope is the links'
# The counts a room reports, as the page names them (its words: WORDS).
COUNTS = ("present", "missing", "extra", "injured")
# The page's own words in the person's language (the template's, and link.js's under
# "js": "{room}" and "{time}" are filled in there). A link that does not work says so in
# English: it names nobody, so there is no one's language to speak.
WORDS: dict[Language, dict[str, Any]] = {
    Language.EN: {
        "drill": "DRILL · this is a drill", "real": "NOT A DRILL · this is real",
        "drill_title": "DRILL",
        "for": "for", "got_it": "I got it", "your_room": "Your room", "room": "Room",
        "room_hint": "Code or name", "everyone": "Everyone here is", "safe": "Safe",
        "need_help": "Need help", "note": "Note", "send": "Send", "minus": "minus one",
        "plus": "plus one", "what_we_know": "What we know",
        "students": "Students", "all_present": "All present",
        "tap_hint": "Tap a student to change: present, missing, absent, injured.",
        "add_extra": "A student from another room is here", "search_hint": "Type a name",
        "counts": {"present": "Present", "missing": "Missing", "extra": "Extra",
                   "injured": "Injured"},
        "ended": "This event has ended: {how}. A report made before the end can still be "
                 "sent.",
        "endings": {EventStatus.ALL_CLEAR: "All clear", EventStatus.CANCELLED: "Cancelled",
                    EventStatus.SUPERSEDED: "Replaced by a newer alert"},
        "js": {
            "ack_sent": "Your school sees that you have the alert.",
            "ack_pending": "Saved on this phone, not sent yet.",
            "pending": "{room}: saved on this phone, not sent yet. It will be sent when the "
                       "connection returns; keep this page open.",
            "stored": "{room}: sent, stored at {time}.",
            "stored_now": "{room}: sent, stored at {time}. Stay with your students and "
                          "follow the directive until the all-clear. Send again if anything "
                          "changes: the newest report of the room counts.",
            "refused": "{room}: not stored.",
            "choose_room": "Choose your room: type its code or name.",
            "choose_status": "Tap Safe or Need help.",
            "update": "Update", "earlier": "Earlier",
            "no_roster": "No class list for this room: count your students below.",
            "marked": "{marked} of {total} marked", "seen_in": "seen in {room}",
            "remove": "Remove",
            "statuses": {"": "not marked", "present": "Present", "missing": "Missing",
                         "absent": "Absent", "injured": "Injured", "extra": "Extra"},
        },
    },
    Language.ES: {
        "drill": "SIMULACRO · esto es un simulacro", "real": "NO ES SIMULACRO · esto es real",
        "drill_title": "SIMULACRO",
        "for": "para", "got_it": "Recibido", "your_room": "Su salón", "room": "Salón",
        "room_hint": "Código o nombre", "everyone": "Todos aquí están",
        "safe": "A salvo", "need_help": "Necesitan ayuda", "note": "Nota",
        "send": "Enviar", "minus": "menos uno", "plus": "más uno",
        "what_we_know": "Lo que sabemos",
        "students": "Estudiantes", "all_present": "Todos presentes",
        "tap_hint": "Toque a un estudiante para cambiar: presente, falta, ausente, herido.",
        "add_extra": "Hay un estudiante de otro salón aquí", "search_hint": "Escriba un nombre",
        "counts": {"present": "Presentes", "missing": "Faltan", "extra": "De más",
                   "injured": "Heridos"},
        "ended": "Este evento terminó: {how}. Un reporte hecho antes del final todavía se "
                 "puede enviar.",
        "endings": {EventStatus.ALL_CLEAR: "Fin de la alerta",
                    EventStatus.CANCELLED: "Cancelado",
                    EventStatus.SUPERSEDED: "Reemplazado por una alerta más reciente"},
        "js": {
            "ack_sent": "Su escuela ve que usted recibió la alerta.",
            "ack_pending": "Guardado en este teléfono, todavía sin enviar.",
            "pending": "{room}: guardado en este teléfono, todavía sin enviar. Se enviará "
                       "cuando vuelva la conexión; mantenga esta página abierta.",
            "stored": "{room}: enviado, guardado a las {time}.",
            "stored_now": "{room}: enviado, guardado a las {time}. Quédese con sus "
                          "estudiantes y siga la instrucción hasta el fin de la alerta. "
                          "Envíe de nuevo si algo cambia: cuenta el reporte más reciente "
                          "del salón.",
            "refused": "{room}: no se guardó.",
            "choose_room": "Elija su salón: escriba su código o su nombre.",
            "choose_status": "Toque A salvo o Necesitan ayuda.",
            "update": "Actualización", "earlier": "Antes",
            "no_roster": "No hay lista de clase de este salón: cuente a sus estudiantes abajo.",
            "marked": "{marked} de {total} marcados", "seen_in": "visto en {room}",
            "remove": "Quitar",
            "statuses": {"": "sin marcar", "present": "Presente", "missing": "Falta",
                         "absent": "Ausente", "injured": "Herido", "extra": "De otro salón"},
        },
    },
}


@get("/e/{token:str}", include_in_schema=False, exclude_from_auth=True)
async def link_page(request: Request, token: FromPath[str]) -> Template:
    """The event's page for the link's person; a link that does not work says so in
    words (404 or 410), naming nothing."""
    state = request.app.state
    try:
        door = Door(state.pool, state.events, state.callers, state.students)
        shown = await links.page(door, token, state.clock())
    except Expired as expired:
        return page("link_refused.html", status_code=410, title="This link has expired",
                    detail=str(expired).capitalize())
    except NotFound:
        return page("link_refused.html", status_code=404, title="This link does not work",
                    detail="It may be mistyped, or no longer yours.")
    return page("link.html", **_context(shown, token, state.assets.url))


def _context(shown: LinkPage, token: str, asset: Callable[[str], str]) -> dict[str, Any]:
    event = shown.event
    last = next((r for r in shown.rooms if r.id == shown.last_room_id), None)
    codes = {r.id: r.code for r in shown.rooms}
    words = WORDS[shown.language]
    threat_word = srp.WORDS[shown.language].threats[event.drill]
    return {
        "event": event, "school_name": shown.school_name, "person_name": shown.person_name,
        "dark": event.action is Action.LOCKDOWN, "counts": COUNTS, "words": words,
        "lang": shown.language.value, "action": srp.WORDS[shown.language].actions[event.action],
        "directive": srp.directive_in(shown.language, event.action, event.directive,
                                      location=event.location, hazard=event.hazard,
                                      strategy=event.strategy),
        "threat": srp.threat(event.action, event.location, event.drill, shown.language),
        "updates": shown.updates, "tz": zone(shown.school_timezone),
        "threat_word": threat_word,
        "last_room": f"{last.code} · {last.name}" if last else "",
        "ended": None if event.status is EventStatus.ACTIVE else
        words["ended"].format(how=words["endings"][event.status]),
        "data": {"words": words["js"],
                 "token": token, "api": f"/v1/links/{token}", "timezone": shown.school_timezone,
                 "open": event.status is EventStatus.ACTIVE, "worker": "/e/sw.js",
                 "rooms": [{"id": str(r.id), "code": r.code, "name": r.name}
                           for r in shown.rooms],
                 "reports": [{"room": codes.get(c.room_id, ""), "at": c.received_at.isoformat()}
                             for c in shown.checkins],
                 "threat_word": threat_word,
                 "assets": [asset(name) for name in ("muster.css", "link.css", "link.js")]},
    }


@get("/e/sw.js", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def link_worker(request: Request) -> Response[bytes]:
    """The service worker, under a name that never changes (a browser checks it for a
    new version on each visit, so it is never cached for long)."""
    assets = request.app.state.assets
    worker = assets.get(assets.url(WORKER).removeprefix("/static/"))
    return Response(worker.body, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
