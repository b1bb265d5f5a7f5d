"""Every route of the app, called by every kind of caller: the role table of docs/rules.md (the
defaults of domain/policy.py) holds, another school's or district's resources answer 404
and never data, and a refusal stores nothing.

The table below must name every route the app serves (the first test fails when one is
added without a row), either as public or with who may use it.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from api.app import create_app
from db.devices import register_device
from domain.roles import Role
from domain.signin import CODE_TTL, code_digest
from tests import factories, oneroster_files
from tests.asgi import first_answer
from tests.conftest import T0, bearer

EVERYONE = frozenset(Role)
LEADS = frozenset({Role.SRO, Role.PRINCIPAL, Role.DISTRICT_ADMIN})
ADMINS = frozenset({Role.PRINCIPAL, Role.DISTRICT_ADMIN})
DISTRICT_ADMIN = frozenset({Role.DISTRICT_ADMIN})

# What a route is about, which decides what outsiders get.
SCHOOL = "school"  # a school's, an event's of that school, someone's phone: outsiders get 404
DISTRICT = "district"  # a district's: 404 from another district, 403 from another school
MINE = "mine"  # the caller's own (their profile, their schools): outsiders see only theirs

YEAR = "school_year=2026-2027"
CODE = "246810"  # the code each person of a world has to confirm their new phone
CSV = {"content-type": "text/csv"}
RULE_PACK = {
    "id": "district", "title": "Board policy", "jurisdiction": "One ISD", "replaces": [],
    "rules": [{"id": "fire_monthly", "title": "A fire drill each month",
               "citation": "Board policy CKC(LOCAL)", "period": "month", "required": 1,
               "counts": {"actions": ["evacuate"], "purposes": ["fire"]}}]}

# A OneRoster export whose "Alpha  High" org is the world's Alpha High.
EXPORT = oneroster_files.zipped(oneroster_files.export(oneroster_files.clean()))


class Call(NamedTuple):
    """Who may make a call, what it is about, and the request an allowed caller makes."""

    scope: str
    allowed: frozenset[Role]
    url: str  # the route's path with its ids filled in, and a query if it needs one
    json: object = None
    csv: bytes | None = None
    zip: bytes | None = None  # a OneRoster export
    wall_clock: bool = False  # it answers tokens, which the JWT library dates by the real clock
    opens_reunification: bool = False  # the world's open reunification is closed first


# Routes answered without an access token; each is called once without one.
PUBLIC = {
    ("GET", "/health"): "/health",
    ("GET", "/ready"): "/ready",
    ("GET", "/metrics"): "/metrics",
    ("GET", "/schema"): "/schema",
    ("GET", "/schema/scalar"): "/schema/scalar",
    ("GET", "/schema/openapi.json"): "/schema/openapi.json",
    ("GET", "/schema/{path:str}"): "/schema/openapi.yaml",
    ("POST", "/v1/auth/otp"): "/v1/auth/otp",  # sign-in: rate-limited, never says who exists
    ("POST", "/v1/auth/token"): "/v1/auth/token",
    ("POST", "/v1/auth/logout"): "/v1/auth/logout",
    ("POST", "/v1/auth/browser"): "/v1/auth/browser",
    ("GET", "/signin"): "/signin",  # the browser's sign-in page
    ("GET", "/static/{served:path}"): "/static/muster.00000000.css",  # the pages' files
    ("POST", "/v1/webhooks/twilio/status"): "/v1/webhooks/twilio/status",  # signed by Twilio
    ("POST", "/v1/webhooks/twilio/voice"): "/v1/webhooks/twilio/voice",  # signed too
    ("POST", "/v1/webhooks/twilio/voice/keypress"): "/v1/webhooks/twilio/voice/keypress",
    # a person's link to an event: its token is the credential (test_links_reach_...)
    ("GET", "/v1/links/{token:str}"): "/v1/links/" + "A" * 22,
    ("POST", "/v1/links/{token:str}/ack"): "/v1/links/" + "A" * 22 + "/ack",
    ("POST", "/v1/links/{token:str}/checkins"): "/v1/links/" + "A" * 22 + "/checkins",
    ("GET", "/v1/links/{token:str}/rooms/{room_id:uuid}/students"):
        "/v1/links/" + "A" * 22 + f"/rooms/{uuid.UUID(int=1)}/students",
    ("GET", "/v1/links/{token:str}/students"): "/v1/links/" + "A" * 22 + "/students?q=Ann",
    ("GET", "/e/{token:str}"): "/e/" + "A" * 22,  # the link's page, on the same terms
    ("GET", "/e/sw.js"): "/e/sw.js",  # the links' service worker
    # a school contact's read-only link to an event: its token is the credential
    # (tests/api/test_watch_api.py)
    ("GET", "/v1/watch/{token:str}"): "/v1/watch/" + "A" * 22,
    ("GET", "/w/{token:str}"): "/w/" + "A" * 22,  # its page
}

S, E, D = "/v1/schools/{school}", "/v1/events/{event}", "/v1/districts/{district}"
A = "/v1/assists/{assist}"  # asked by the school's staff member
RU = "/v1/reunifications/{reunification}"  # open, a student and their guardian at the site
RESPONDERS_OR_ASKER = LEADS | {Role.STAFF}
TABLE = {
    ("GET", "/v1/me"): Call(MINE, EVERYONE, "/v1/me"),
    ("PATCH", "/v1/me"): Call(MINE, EVERYONE, "/v1/me",
                              {"name": "Someone Renamed", "language": "es"}),
    # a new phone of one's own: a code texted to it, then confirmed (the world has one)
    ("POST", "/v1/me/phone"): Call(MINE, EVERYONE, "/v1/me/phone", {"phone": "{new_phone}"}),
    ("POST", "/v1/me/phone/confirm"): Call(MINE, EVERYONE, "/v1/me/phone/confirm",
                                           {"phone": "{new_phone}", "code": CODE},
                                           wall_clock=True),
    ("DELETE", "/v1/me/session"): Call(MINE, EVERYONE, "/v1/me/session"),
    ("POST", "/v1/me/devices"): Call(MINE, EVERYONE, "/v1/me/devices",
                                     {"platform": "ios", "push_token": "token-new"}),
    # a member removes their own phone; an outsider tries the teacher's
    ("DELETE", "/v1/me/devices/{device_id:uuid}"): Call(SCHOOL, EVERYONE,
                                                        "/v1/me/devices/{device}"),
    ("GET", "/v1/schools"): Call(MINE, EVERYONE, "/v1/schools"),
    ("GET", "/v1/rule-packs"): Call(MINE, EVERYONE, "/v1/rule-packs"),
    ("GET", "/v1/schools/{school_id:uuid}"): Call(SCHOOL, EVERYONE, S),
    ("PATCH", "/v1/schools/{school_id:uuid}"): Call(SCHOOL, DISTRICT_ADMIN, S,
                                                    {"name": "Alpha High School"}),
    ("GET", "/v1/schools/{school_id:uuid}/rooms"): Call(SCHOOL, EVERYONE, S + "/rooms"),
    ("PUT", "/v1/schools/{school_id:uuid}/rooms"): Call(SCHOOL, ADMINS, S + "/rooms",
                                                        [{"code": "R-900", "name": "Annex"}]),
    ("POST", "/v1/schools/{school_id:uuid}/rooms/import"): Call(
        SCHOOL, ADMINS, S + "/rooms/import", csv=b"code,name\nR-901,Annex\n"),
    ("GET", "/v1/schools/{school_id:uuid}/readiness"): Call(SCHOOL, LEADS, S + "/readiness"),
    ("GET", "/v1/schools/{school_id:uuid}/contacts"): Call(SCHOOL, LEADS, S + "/contacts"),
    ("PUT", "/v1/schools/{school_id:uuid}/contacts"): Call(
        SCHOOL, ADMINS, S + "/contacts",
        [{"name": "Alpha PD", "phone": "(512) 555-0190", "kind": "police", "on": "real"}]),
    ("GET", "/v1/schools/{school_id:uuid}/events"): Call(SCHOOL, EVERYONE, S + "/events"),
    # a real event: anyone who sees the threat (drills are for leads: test_events_api)
    ("POST", "/v1/schools/{school_id:uuid}/events"): Call(
        SCHOOL, EVERYONE, S + "/events", {"action": "lockdown", "drill": False}),
    ("GET", "/v1/schools/{school_id:uuid}/audit"): Call(SCHOOL, ADMINS, S + "/audit"),
    ("GET", "/v1/schools/{school_id:uuid}/staff"): Call(SCHOOL, LEADS, S + "/staff"),
    ("POST", "/v1/schools/{school_id:uuid}/staff"): Call(
        SCHOOL, LEADS, S + "/staff",
        {"name": "New Teacher", "phone": "+15125550177", "role": "teacher"}),
    # the school's entry, the phone and the language: the teacher is only Alpha High's, so
    # its leads manage all of them (tests/api/test_identity_api.py and
    # test_languages_api.py: someone who is not only theirs)
    ("PATCH", "/v1/schools/{school_id:uuid}/staff/{user_id:uuid}"): Call(
        SCHOOL, LEADS, S + "/staff/{teacher}",
        {"name": "Renamed Teacher", "phone": "{new_phone}", "language": "es"}),
    ("DELETE", "/v1/schools/{school_id:uuid}/staff/{user_id:uuid}"): Call(
        SCHOOL, LEADS, S + "/staff/{teacher}"),
    ("POST", "/v1/schools/{school_id:uuid}/staff/import"): Call(
        SCHOOL, LEADS, S + "/staff/import",
        csv=b"name,phone,role,language\nNew Person,+15125550178,teacher,es\n"),
    ("GET", "/v1/schools/{school_id:uuid}/school-years/{school_year:str}"): Call(
        SCHOOL, LEADS, S + "/school-years/2026-2027"),
    ("PUT", "/v1/schools/{school_id:uuid}/school-years/{school_year:str}"): Call(
        SCHOOL, ADMINS, S + "/school-years/2026-2027", {}),
    ("GET", "/v1/schools/{school_id:uuid}/drill-log"): Call(SCHOOL, LEADS,
                                                            S + "/drill-log?" + YEAR),
    ("GET", "/v1/schools/{school_id:uuid}/compliance"): Call(SCHOOL, LEADS,
                                                             S + "/compliance?" + YEAR),
    # requests for help: anyone asks; responders (by default the SRO and the principal)
    # and safety leads answer; the asker may also resolve; admins choose the responders
    ("GET", "/v1/schools/{school_id:uuid}/assists"): Call(SCHOOL, EVERYONE, S + "/assists"),
    ("POST", "/v1/schools/{school_id:uuid}/assists"): Call(
        SCHOOL, EVERYONE, S + "/assists", {"kind": "medical", "room_id": "{room}"}),
    ("GET", "/v1/schools/{school_id:uuid}/responders"): Call(SCHOOL, EVERYONE,
                                                             S + "/responders"),
    ("PUT", "/v1/schools/{school_id:uuid}/responders"): Call(
        SCHOOL, ADMINS, S + "/responders", {"roles": ["sro"], "user_ids": ["{teacher}"]}),
    ("GET", "/v1/assists/{assist_id:uuid}"): Call(SCHOOL, EVERYONE, A),
    ("GET", "/v1/assists/{assist_id:uuid}/timeline"): Call(SCHOOL, EVERYONE, A + "/timeline"),
    ("GET", "/v1/assists/{assist_id:uuid}/stream"): Call(SCHOOL, EVERYONE, A + "/stream"),
    ("POST", "/v1/assists/{assist_id:uuid}/responses"): Call(SCHOOL, LEADS, A + "/responses"),
    ("POST", "/v1/assists/{assist_id:uuid}/resolve"): Call(
        SCHOOL, RESPONDERS_OR_ASKER, A + "/resolve", {"outcome": "handled"}),
    # a real lockdown from the request: it supersedes the world's drill
    ("POST", "/v1/assists/{assist_id:uuid}/event"): Call(
        SCHOOL, LEADS, A + "/event", {"action": "lockdown", "drill": False}),
    ("GET", "/v1/events/{event_id:uuid}"): Call(SCHOOL, EVERYONE, E),
    ("POST", "/v1/events/{event_id:uuid}/actions"): Call(SCHOOL, LEADS, E + "/actions",
                                                         {"action": "lockdown"}),
    ("POST", "/v1/events/{event_id:uuid}/all-clear"): Call(SCHOOL, LEADS, E + "/all-clear", {}),
    ("POST", "/v1/events/{event_id:uuid}/cancel"): Call(SCHOOL, LEADS, E + "/cancel",
                                                        {"reason": "false alarm"}),
    ("POST", "/v1/events/{event_id:uuid}/ack"): Call(SCHOOL, EVERYONE, E + "/ack"),
    ("POST", "/v1/events/{event_id:uuid}/checkins"): Call(
        SCHOOL, EVERYONE, E + "/checkins",
        {"client_id": "{client}", "room_id": "{room}", "status": "ok", "students_present": 20}),
    ("GET", "/v1/events/{event_id:uuid}/accountability"): Call(SCHOOL, EVERYONE,
                                                               E + "/accountability"),
    ("GET", "/v1/events/{event_id:uuid}/rooms/{room_id:uuid}/students"): Call(
        SCHOOL, EVERYONE, E + "/rooms/{room}/students"),
    ("GET", "/v1/events/{event_id:uuid}/students"): Call(SCHOOL, EVERYONE,
                                                         E + "/students?q=Ann"),
    ("POST", "/v1/events/{event_id:uuid}/updates"): Call(
        SCHOOL, LEADS, E + "/updates", {"text": "Police are inside.", "threat_location": "Gym"}),
    ("GET", "/v1/events/{event_id:uuid}/updates"): Call(SCHOOL, EVERYONE, E + "/updates"),
    # a member reports themselves (no one else), whatever their role
    ("POST", "/v1/events/{event_id:uuid}/status"): Call(SCHOOL, EVERYONE, E + "/status",
                                                        {"status": "safe"}),
    ("GET", "/v1/events/{event_id:uuid}/timeline"): Call(SCHOOL, EVERYONE, E + "/timeline"),
    ("GET", "/v1/events/{event_id:uuid}/stream"): Call(SCHOOL, EVERYONE, E + "/stream"),
    ("GET", "/v1/events/{event_id:uuid}/deliveries"): Call(SCHOOL, LEADS, E + "/deliveries"),
    ("GET", "/v1/events/{event_id:uuid}/report"): Call(SCHOOL, LEADS, E + "/report"),
    ("GET", "/v1/events/{event_id:uuid}/report.html"): Call(SCHOOL, LEADS, E + "/report.html"),
    # notes are for an event that has ended
    ("PUT", "/v1/events/{event_id:uuid}/after-action"): Call(
        SCHOOL, LEADS, "/v1/events/{ended}/after-action", {"notification_method": "PA"}),
    # reunification: leads open and close it, every member works at the site (one open
    # per school: opening one closes the world's first), admins approve
    ("POST", "/v1/events/{event_id:uuid}/reunification"): Call(
        SCHOOL, LEADS, E + "/reunification", {"site": "Gym"}, opens_reunification=True),
    ("POST", "/v1/schools/{school_id:uuid}/reunifications"): Call(
        SCHOOL, LEADS, S + "/reunifications", {"site": "Gym"}, opens_reunification=True),
    ("GET", "/v1/schools/{school_id:uuid}/reunifications"): Call(SCHOOL, EVERYONE,
                                                                 S + "/reunifications"),
    ("GET", "/v1/reunifications/{reunification_id:uuid}"): Call(SCHOOL, EVERYONE, RU),
    ("POST", "/v1/reunifications/{reunification_id:uuid}/students"): Call(
        SCHOOL, EVERYONE, RU + "/students", {"student_id": "{waiting}"}),
    ("POST", "/v1/reunifications/{reunification_id:uuid}/adults"): Call(
        SCHOOL, EVERYONE, RU + "/adults",
        {"name": "Pat Parent", "id_seen": True, "student_ids": ["{student}"]}),
    ("POST", "/v1/reunifications/{reunification_id:uuid}/approvals"): Call(
        SCHOOL, ADMINS, RU + "/approvals", {"student_id": "{student}", "adult_id": "{adult}"}),
    ("POST", "/v1/reunifications/{reunification_id:uuid}/releases"): Call(
        SCHOOL, EVERYONE, RU + "/releases", {"student_id": "{student}", "adult_id": "{adult}"}),
    ("POST", "/v1/reunifications/{reunification_id:uuid}/close"): Call(SCHOOL, LEADS,
                                                                       RU + "/close"),
    ("GET", "/v1/reunifications/{reunification_id:uuid}/record"): Call(SCHOOL, EVERYONE,
                                                                       RU + "/record"),
    ("GET", "/v1/reunifications/{reunification_id:uuid}/record.html"): Call(
        SCHOOL, EVERYONE, RU + "/record.html"),
    ("POST", "/v1/schools/{school_id:uuid}/roster/oneroster"): Call(
        SCHOOL, ADMINS, S + "/roster/oneroster", zip=EXPORT),
    ("POST", "/v1/schools/{school_id:uuid}/students/import"): Call(
        SCHOOL, ADMINS, S + "/students/import",
        csv=b"student_id,given_name,family_name,guardian1_name,guardian1_phone\n"
            b"S-1,Ana,Alvarez,Pat Alvarez,(512) 555-0101\n"),
    ("POST", "/v1/districts/{district_id:uuid}/roster/oneroster"): Call(
        DISTRICT, DISTRICT_ADMIN, D + "/roster/oneroster", zip=EXPORT),
    ("POST", "/v1/districts/{district_id:uuid}/schools"): Call(
        DISTRICT, DISTRICT_ADMIN, D + "/schools",
        {"name": "Delta Middle", "timezone": "America/Chicago"}),
    ("GET", "/v1/districts/{district_id:uuid}/drill-log"): Call(DISTRICT, DISTRICT_ADMIN,
                                                                D + "/drill-log?" + YEAR),
    ("GET", "/v1/districts/{district_id:uuid}/compliance"): Call(DISTRICT, DISTRICT_ADMIN,
                                                                 D + "/compliance?" + YEAR),
    # students: every member reads them (and guardians: REUNIFY is everyone's), the
    # administrators set the bell schedule, only the district erases the school's roster
    ("GET", "/v1/schools/{school_id:uuid}/students"): Call(SCHOOL, EVERYONE, S + "/students"),
    ("GET", "/v1/schools/{school_id:uuid}/students/{student_id:uuid}"): Call(
        SCHOOL, EVERYONE, S + "/students/{student}"),
    ("GET", "/v1/schools/{school_id:uuid}/students/expected"): Call(
        SCHOOL, EVERYONE, S + "/students/expected"),
    ("DELETE", "/v1/schools/{school_id:uuid}/students"): Call(
        SCHOOL, DISTRICT_ADMIN, S + "/students", {"confirm": "Alpha High"}),
    ("GET", "/v1/schools/{school_id:uuid}/bell-schedule"): Call(SCHOOL, EVERYONE,
                                                                S + "/bell-schedule"),
    ("PUT", "/v1/schools/{school_id:uuid}/bell-schedule"): Call(
        SCHOOL, ADMINS, S + "/bell-schedule",
        {"day_types": [{"name": "regular", "weekdays": [1, 2, 3, 4, 5],
                        "periods": [{"name": "1", "starts": "08:00", "ends": "08:50"}]}]}),
    ("GET", "/v1/districts/{district_id:uuid}/rule-pack"): Call(DISTRICT, DISTRICT_ADMIN,
                                                                D + "/rule-pack"),
    ("PUT", "/v1/districts/{district_id:uuid}/rule-pack"): Call(DISTRICT, DISTRICT_ADMIN,
                                                                D + "/rule-pack", RULE_PACK),
}

# Browser pages: like TABLE's routes, but without a session they send the browser to sign in.
PAGES = {
    ("GET", "/"): Call(MINE, EVERYONE, "/"),
    ("GET", "/schools/{school_id:uuid}"): Call(SCHOOL, EVERYONE, "/schools/{school}"),
    ("GET", "/events/{event_id:uuid}"): Call(SCHOOL, EVERYONE, "/events/{event}"),
    ("GET", "/reunifications/{reunification_id:uuid}"): Call(
        SCHOOL, EVERYONE, "/reunifications/{reunification}"),
    ("GET", "/reunifications/{reunification_id:uuid}/record"): Call(
        SCHOOL, EVERYONE, "/reunifications/{reunification}/record"),
}

# Who calls: each role at Alpha High, a principal of Beta Elementary (same district), and
# the district admin of Two ISD: the strongest outsiders there are.
CALLERS = [*Role, "other_school", "other_district"]
PROBLEM_FIELDS = {"type", "title", "status", "detail", "request_id", "errors"}


def routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, OPTIONS and HEAD aside."""
    return {(method, route.path) for route in app.routes for method in route.methods
            if method not in ("OPTIONS", "HEAD")}


def test_every_route_is_in_the_table(settings):
    """A route added to the app without a row here fails this test."""
    app = create_app(settings, database_url="postgresql://unused", secret="x" * 32)
    assert routes(app) == set(TABLE) | set(PUBLIC) | set(PAGES)
    assert not set(TABLE) & set(PUBLIC) and not set(PAGES) & (set(TABLE) | set(PUBLIC))


async def build_world(db, client, now: datetime = T0) -> dict:
    """District One: Alpha High (a member in every role, rooms, a phone each, an ended
    drill and an active one) and Beta Elementary (its principal); its own rule pack.
    District Two: Gamma High and its district admin."""
    d1, d2 = await factories.district(db, "One ISD"), await factories.district(db, "Two ISD")
    high, elem = await factories.school(db, d1, "Alpha High"), await factories.school(db, d1)
    await factories.school(db, d2, "Gamma High")
    people = {role: await factories.person(db, d1, high, role)
              for role in (Role.TEACHER, Role.STAFF, Role.SRO, Role.PRINCIPAL)}
    people[Role.DISTRICT_ADMIN] = await factories.person(db, d1, None, "district_admin")
    people["other_school"] = await factories.person(db, d1, elem, "principal")
    people["other_district"] = await factories.person(db, d2, None, "district_admin")
    devices = {who: (await register_device(db, user, None, "android", f"token-{who}", T0))[0].id
               for who, user in people.items()}
    new_phones = {who: f"+1512555{next(_NEW_PHONES):04d}" for who in people}
    for who, phone in new_phones.items():
        await _code_for(db, people[who], phone, client.app.state.secret, now)
    lead = bearer(people[Role.SRO])
    started = await client.post(f"/v1/schools/{high}/events", headers=lead,
                                json={"action": "hold", "drill": True})
    ended = started.json()["id"]
    await client.post(f"/v1/events/{ended}/all-clear", headers=lead, json={})
    active = await client.post(f"/v1/schools/{high}/events", headers=lead,
                               json={"action": "hold", "drill": True})
    pack = await client.put(f"/v1/districts/{d1}/rule-pack", json=RULE_PACK,
                            headers=bearer(people[Role.DISTRICT_ADMIN]))
    assist = await client.post(f"/v1/schools/{high}/assists", json={"kind": "other"},
                               headers=bearer(people[Role.STAFF]))
    assert (started.status_code, active.status_code, pack.status_code,
            assist.status_code) == (201, 201, 200, 201)
    site = await factories.reunification_site(db, high, people[Role.SRO], now)
    return {"school": high, "district": d1, "event": active.json()["id"], "ended": ended,
            "assist": assist.json()["id"], **site,
            "teacher": people[Role.TEACHER], "room": (await factories.rooms(db, high, 3))[0],
            "people": people, "devices": devices, "new_phones": new_phones}


_NEW_PHONES = itertools.count(1000)


async def _code_for(db, user: uuid.UUID, phone: str, secret: str, now: datetime) -> None:
    """A code `user` asked for a minute ago to make `phone` theirs, as POST /v1/me/phone
    stores it (a minute: asking again for that phone is not too soon)."""
    code_id, asked = uuid.uuid4(), now - timedelta(minutes=1)
    await db.execute(
        "insert into auth_codes (id, phone, code_hash, created_at, expires_at, user_id) "
        "values ($1, $2, $3, $4, $5, $6)", code_id, phone,
        code_digest(secret, str(code_id), CODE), asked, asked + CODE_TTL, user)


def expected(call: Call, caller: Role | str) -> range:
    """The statuses `caller` may get: 2xx allowed, 403 refused, 404 out of reach."""
    if isinstance(caller, Role):
        return range(200, 300) if caller in call.allowed else range(403, 404)
    if call.scope == MINE:
        return range(200, 300)
    if call.scope == DISTRICT and caller == "other_school":
        return range(403, 404)  # a member of the district, not its admin
    return range(404, 405)


def request_of(call: Call, world: dict, caller: Role | str) -> tuple[str, dict]:
    """The URL and httpx arguments of `call` for `caller` in `world`."""
    ids = {k: world[k] for k in ("school", "district", "event", "ended", "teacher", "room",
                                 "assist", "reunification", "student", "adult", "waiting")}
    ids["client"] = uuid.uuid4()
    ids["device"] = world["devices"][caller if isinstance(caller, Role) else Role.TEACHER]
    ids["new_phone"] = world["new_phones"][caller]
    fill = lambda text: text.format(**ids)  # noqa: E731
    kwargs: dict = {"headers": bearer(world["people"][caller])}
    if call.json is not None:
        kwargs["json"] = fill_json(call.json, fill)
    if call.csv is not None:
        kwargs["content"] = call.csv
        kwargs["headers"] |= CSV
    if call.zip is not None:
        kwargs["content"] = call.zip
        kwargs["headers"] |= {"content-type": "application/zip"}
    return fill(call.url), kwargs


def fill_json(value: object, fill) -> object:
    if isinstance(value, str):
        return fill(value)
    if isinstance(value, dict):
        return {k: fill_json(v, fill) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_json(v, fill) for v in value]
    return value


async def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table, so that any write shows."""
    tables = await db.fetch("""select tablename from pg_tables where schemaname = 'public'
                               order by tablename""")
    return {t["tablename"]: sorted(map(tuple, await db.fetch(f'select * from "{t[0]}"')),
                                   key=repr)
            for t in tables}


@pytest.mark.parametrize("key", sorted(TABLE | PAGES), ids=" ".join)
async def test_role_matrix(client, db, clock, key):
    """Each kind of caller gets what the table says; a refusal is a problem that tells
    nothing of the resource, and nothing is stored."""
    call, method = (TABLE | PAGES)[key], key[0]
    if call.wall_clock:
        clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    world = None
    for caller in CALLERS:
        if world is None or method != "GET":  # after a write, a new world beside the old
            world = await build_world(db, client, clock.now)
            if call.opens_reunification:
                await db.execute("update reunifications set closed_at = opened_at, "
                                 "closed_by = opened_by where id = $1", world["reunification"])
        url, kwargs = request_of(call, world, caller)
        before = await snapshot(db) if method != "GET" else None
        if key[1].endswith("/stream"):  # it never ends: look at how it starts
            status, raw = client.blocking_portal.call(first_answer, client.app, method, url,
                                                      kwargs["headers"])
            text = raw.decode()
        else:
            r = await client.request(method, url, **kwargs)
            status, text = r.status_code, r.text
        assert status in expected(call, caller), (caller, status, text)
        if status >= 300:
            assert set(json.loads(text)) <= PROBLEM_FIELDS, text
            assert before is None or await snapshot(db) == before, f"{caller}: refused, yet stored"
        if not isinstance(caller, Role):  # nothing of Alpha High reaches an outsider
            assert "Alpha High" not in text and "Teacher" not in text, (caller, text)


@pytest.mark.parametrize("key", sorted(TABLE), ids=" ".join)
async def test_every_private_route_needs_a_token(client, db, key):
    """Without a token, 401 and nothing else."""
    url = TABLE[key].url.format(school=uuid.uuid4(), district=uuid.uuid4(), event=uuid.uuid4(),
                                ended=uuid.uuid4(), teacher=uuid.uuid4(), device=uuid.uuid4(),
                                assist=uuid.uuid4(), room=uuid.uuid4(),
                                reunification=uuid.uuid4(), student=uuid.uuid4())
    r = await client.request(key[0], url)
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("key", sorted(PAGES), ids=" ".join)
async def test_every_page_sends_a_browser_without_a_session_to_sign_in(client, key):
    url = PAGES[key].url.format(school=uuid.uuid4(), district=uuid.uuid4(), event=uuid.uuid4(),
                                reunification=uuid.uuid4())
    r = await client.request(key[0], url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=/"), r.text


@pytest.mark.parametrize("key", sorted(PUBLIC), ids=" ".join)
async def test_public_routes_need_no_token(client, key):
    """Health, metrics, the schema, sign-in and provider webhooks answer without a token
    (webhooks check the provider's signature instead: 403 without one)."""
    r = await client.request(key[0], PUBLIC[key], json={} if key[0] == "POST" else None)
    assert r.status_code != 401, r.text
    assert r.status_code < 500, r.text


def test_the_path_templates_are_the_routes():
    """The table's URLs fill in the ids of their route's path (a typo would test another
    route)."""
    for (_, path), call in (TABLE | PAGES).items():
        pattern = re.sub(r"\\{\w+:\w+\\}", "[^/]+", re.escape(path))
        filled = call.url.format(school="s", district="d", event="e", ended="e", teacher="t",
                                 device="x", assist="a", room="r", reunification="u",
                                 student="p")
        assert re.fullmatch(pattern, filled.partition("?")[0]), (path, call.url)


# A link's token is its caller: (whose token, for which event) -> what its three routes
# answer. Only the alerted members of the event's school hold one; an ended event's link
# works for a day after the end (a report observed before the end is still taken, a new
# one is 409) and then expires (410).
LINK_CASES = {
    "member": (Role.TEACHER, "event", 200),
    "lead": (Role.SRO, "event", 200),
    "another event, ended": (Role.TEACHER, "ended", 409),
    "another school's person": ("other_school", "event", 404),
    "another district's admin": ("other_district", "event", 404),
    "removed member": ("removed", "event", 404),
    "ended event, past the window": (Role.TEACHER, "expired", 410),
}


@pytest.mark.parametrize("case", sorted(LINK_CASES))
async def test_links_reach_their_own_event_for_their_own_person(client, db, clock, case):
    """GET, the page, a room's students, the search, ack and a check-in by link: a
    member's own link works; any other token is refused with a problem (a page) that tells
    nothing of the school, and stores nothing (an ended event's link acknowledges, which
    records receipt of that event only)."""
    from domain.links import OFFLINE_REPLAY_WINDOW
    from tests.conftest import LINKS

    who, which, status = LINK_CASES[case]
    world = await build_world(db, client, clock.now)
    person = world["people"][Role.TEACHER if who == "removed" else who]
    if who == "removed":
        r = await client.delete(f"/v1/schools/{world['school']}/staff/{person}",
                                headers=bearer(world["people"][Role.PRINCIPAL]))
        assert r.status_code == 204, r.text
    if which == "expired":
        clock.advance(seconds=(OFFLINE_REPLAY_WINDOW + timedelta(seconds=1)).total_seconds())
    event = world["ended" if which in ("ended", "expired") else "event"]
    url = f"/v1/links/{LINKS.token(uuid.UUID(event), person)}"
    report = {"client_id": str(uuid.uuid4()), "room_id": str(world["room"]), "status": "ok",
              "students_present": 20}
    page = url.replace("/v1/links/", "/e/")
    for method, path, body, allowed in (("GET", "", None, 200), ("GET", "page", None, 200),
                                        ("GET", f"/rooms/{world['room']}/students", None, 200),
                                        ("GET", "/students?q=Ann", None, 200),
                                        ("POST", "/ack", None, 204),
                                        ("POST", "/checkins", report, 201)):
        before = await snapshot(db) if method != "GET" else None
        r = await client.request(method, page if path == "page" else url + path, json=body)
        # an ended event's link is open: only a new report is refused, as too late
        refused = status != 200 and (status != 409 or path == "/checkins")
        assert r.status_code == (status if refused else allowed), (case, path, r.text)
        if refused:
            assert path == "page" or set(r.json()) <= PROBLEM_FIELDS, r.text
            assert before is None or await snapshot(db) == before, f"{case}: refused, stored"
            assert "Alpha High" not in r.text and "Teacher" not in r.text, r.text
