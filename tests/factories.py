"""Small builders of rows for tests, straight into the database, and the start of an
event over the API."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

import asyncpg

from domain.checkins import CheckIn, CheckInStatus
from tests.conftest import SECRET, bearer

_phones = itertools.count()
STAFF = ("teacher", "staff", "sro", "principal")  # a school's roles, from least to most


async def district(db: asyncpg.Connection, name: str = "Test ISD") -> uuid.UUID:
    district_id = uuid.uuid4()
    await db.execute("insert into districts (id, name, state) values ($1, $2, 'TX')",
                     district_id, name)
    return district_id


async def school(db: asyncpg.Connection, district_id: uuid.UUID,
                 name: str = "Test High") -> uuid.UUID:
    school_id = uuid.uuid4()
    await db.execute(
        """insert into schools (id, district_id, name, timezone, state)
           values ($1, $2, $3, 'America/Chicago', 'TX')""", school_id, district_id, name)
    return school_id


async def rooms(db: asyncpg.Connection, school_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    await db.executemany(
        "insert into rooms (id, school_id, code, name) values ($1, $2, $3, $4)",
        [(rid, school_id, f"R-{n:03d}", f"Room {n}") for n, rid in enumerate(ids, 1)])
    return ids


async def person(db: asyncpg.Connection, district_id: uuid.UUID, school_id: uuid.UUID | None,
                 role: str, *, expires_at: datetime | None = None) -> uuid.UUID:
    """A user with one membership (school_id None for a district admin)."""
    user_id = uuid.uuid4()
    n = next(_phones)
    name = f"{role.title()} {n}"
    await db.execute("insert into users (id, name, phone) values ($1, $2, $3)",
                     user_id, name, f"+1{200 + n // 100}55501{n % 100:02d}")
    await db.execute(
        """insert into memberships (id, user_id, district_id, school_id, role, expires_at, name)
           values ($1, $2, $3, $4, $5, $6, $7)""",
        uuid.uuid4(), user_id, district_id, school_id, role, expires_at, name)
    return user_id


async def staffed_school(db: asyncpg.Connection, *roles: str, room_count: int = 0,
                         district_id: uuid.UUID | None = None) -> dict:
    """A school (in a new district unless `district_id`) with a person in each of `roles`
    and `room_count` rooms: {"district": ..., "id": ..., "rooms": [...], role: user id}."""
    district_id = district_id or await district(db)
    school_id = await school(db, district_id)
    people = {role: await person(db, district_id, school_id, role) for role in roles}
    return {"district": district_id, "id": school_id,
            "rooms": await rooms(db, school_id, room_count), **people}


_students = itertools.count()


async def students(db: asyncpg.Connection, school_id: uuid.UUID, count: int, *,
                   homeroom_id: uuid.UUID | None = None, grade: str = "9") -> list[uuid.UUID]:
    """`count` active students named "Given{n} Family{n}", in `homeroom_id` if given."""
    ids = [uuid.uuid4() for _ in range(count)]
    numbers = [next(_students) for _ in ids]
    await db.executemany(
        """insert into students (id, school_id, source_id, given_name, family_name, grade,
                                 homeroom_id, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, now())""",
        [(sid, school_id, f"S{n:06d}", f"Given{n}", f"Family{n}", grade, homeroom_id)
         for sid, n in zip(ids, numbers, strict=True)])
    return ids


async def school_class(db: asyncpg.Connection, school_id: uuid.UUID, room_id: uuid.UUID | None,
                       periods: list[str], student_ids: list[uuid.UUID], *,
                       source_id: str | None = None) -> uuid.UUID:
    """A class meeting in `room_id` at `periods`, with these students enrolled."""
    class_id = uuid.uuid4()
    await db.execute(
        """insert into classes (id, school_id, source_id, title, room_id, periods, updated_at)
           values ($1, $2, $3, $4, $5, $6, now())""",
        class_id, school_id, source_id or f"C-{class_id}", "Class", room_id, periods)
    await db.executemany(
        "insert into enrollments (class_id, student_id, school_id) values ($1, $2, $3)",
        [(class_id, sid, school_id) for sid in student_ids])
    return class_id


async def guardian(db: asyncpg.Connection, school_id: uuid.UUID, student_id: uuid.UUID,
                   name: str, *, phone: str | None = None, relationship: str = "parent",
                   language: str = "en") -> uuid.UUID:
    """An adult on the student's record."""
    guardian_id = uuid.uuid4()
    await db.execute(
        """insert into guardians (id, school_id, source_id, name, phone, language, updated_at)
           values ($1, $2, $3, $4, $5, $6, now())""",
        guardian_id, school_id, f"G-{guardian_id}", name, phone, language)
    await db.execute(
        """insert into student_guardians (student_id, guardian_id, school_id, relationship)
           values ($1, $2, $3, $4)""", student_id, guardian_id, school_id, relationship)
    return guardian_id


def start_request(client, school: dict, who: str = "sro", **body):
    """The app's answer to `school[who]` starting an event at `school` (a staffed_school):
    a real lockdown unless `body` says otherwise."""
    body = {"action": "lockdown", "drill": False} | body
    return client.post(f"/v1/schools/{school['id']}/events", json=body,
                       headers=bearer(school[who]))


async def start(client, school: dict, who: str = "sro", **body) -> str:
    """The id of the event `school[who]` has started (as start_request), once it is 201."""
    r = await start_request(client, school, who, **body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def lockdown(db: asyncpg.Connection, school_id: uuid.UUID, started_by: uuid.UUID,
                   started_at: datetime) -> uuid.UUID:
    """An active real lockdown, as its start stores it (without the timeline or alerts)."""
    event_id = uuid.uuid4()
    await db.execute("insert into events (id, school_id, action, drill, status, directive, "
                     "started_at, started_by) values ($1, $2, 'lockdown', false, 'active', "
                     "'x', $3, $4)", event_id, school_id, started_at, started_by)
    return event_id


async def lockdown_with_rooms(db: asyncpg.Connection, room_count: int,
                              started_at: datetime) -> dict:
    """A lockdown at a school of `room_count` rooms, its SRO, and a room of another school
    of the district (a report from there is a foreign room's)."""
    d = await district(db)
    ours = await school(db, d)
    other = await school(db, d, "Other High")
    sro = await person(db, d, ours, "sro")
    return {"event": await lockdown(db, ours, sro, started_at), "school": ours, "sro": sro,
            "rooms": await rooms(db, ours, room_count),
            "other_room": (await rooms(db, other, 1))[0]}


def room_report(world: dict, room: uuid.UUID, at: datetime, **changes) -> CheckIn:
    """A report of `room` by the SRO of `lockdown_with_rooms`, observed and received `at`:
    safe, 20 present."""
    fields = {"id": uuid.uuid4(), "event_id": world["event"], "room_id": room,
              "client_id": uuid.uuid4(), "status": CheckInStatus.OK, "students_present": 20,
              "observed_at": at, "received_at": at, "reported_by": world["sro"]}
    return CheckIn(**(fields | changes))


class BrowserSession(NamedTuple):
    cookie: str  # the muster_session cookie's value
    csrf: str  # what the pages send as X-CSRF-Token


async def browser_session(db: asyncpg.Connection, user_id: uuid.UUID) -> BrowserSession:
    """A signed-in browser of `user_id` (as POST /v1/auth/browser makes), without the SMS
    code: a session row, the cookie's token naming it, and the session's CSRF token."""
    from api.http.auth import csrf_token, issue_access_token
    from db import signin

    session_id = uuid.uuid4()
    now = datetime.now(UTC)
    await signin.open_session(db, session_id, user_id, now)
    return BrowserSession(issue_access_token(user_id, SECRET, now, 3600, session_id),
                          csrf_token(SECRET, session_id))


async def reunification_site(db: asyncpg.Connection, school_id: uuid.UUID,
                             opened_by: uuid.UUID, now: datetime) -> dict:
    """An open reunification at the school (as its opening stores it, without texts): a
    student checked in at the site, their guardian checked in with photo ID seen, and a
    second student not yet here, all at `now`. {"reunification", "student", "adult", "waiting"}."""
    student, waiting = await students(db, school_id, 2)
    guardian_id = await guardian(db, school_id, student, "Pat Parent")
    rid, adult_id = uuid.uuid4(), uuid.uuid4()
    await db.execute("insert into reunifications (id, school_id, site, opened_at, opened_by) "
                     "values ($1, $2, 'Gym', $3, $4)", rid, school_id, now, opened_by)
    await db.execute("insert into reunification_students (reunification_id, student_id, "
                     "school_id, arrived_at, checked_in_by) values ($1, $2, $3, $4, $5)",
                     rid, student, school_id, now, opened_by)
    await db.execute("insert into reunification_adults (id, reunification_id, school_id, "
                     "guardian_id, name, id_seen, arrived_at, checked_in_by) "
                     "values ($1, $2, $3, $4, 'Pat Parent', true, $5, $6)",
                     adult_id, rid, school_id, guardian_id, now, opened_by)
    await db.execute("insert into reunification_adult_students (adult_id, reunification_id, "
                     "student_id, school_id) values ($1, $2, $3, $4)",
                     adult_id, rid, student, school_id)
    return {"reunification": rid, "student": student, "adult": adult_id, "waiting": waiting}
