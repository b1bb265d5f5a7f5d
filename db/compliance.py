"""Queries for the drill log and compliance: schools with their dates for a school year,
the events of a school year, a district's rule pack, and who administers a district."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

import asyncpg
import msgspec

from db.directory import entry_name
from db.pool import Connection
from domain.calendar import GradeBand, SchoolYear, Source
from domain.compliance import RulePack
from domain.roles import Role
from domain.schools import School
from domain.srp import Action, EventStatus, Hazard, Purpose
from domain.values import Value


class SchoolWithYear(Value):
    """A school, its own dates for the school year asked for (None: not set), and the
    day it is there now."""

    school: School
    own: SchoolYear | None
    today: date


# schools_with_year -- one school, or every school of a district by name, with the dates
# it set for school year $2 (none when it set none) and its local date at instant $3
_SCHOOLS_WITH_YEAR = """
select s.id, s.district_id, s.name, s.timezone, s.state, s.school_year_start_month,
       s.school_year_start_day, y.first_day, y.last_day, y.second_semester_start, y.grade_band,
       ($3::timestamptz at time zone s.timezone)::date as today
from schools s
left join school_years y on y.school_id = s.id and y.start_year = $2
"""
_OF_SCHOOL = _SCHOOLS_WITH_YEAR + "where s.id = $1"
_OF_DISTRICT = _SCHOOLS_WITH_YEAR + "where s.district_id = $1 order by s.name, s.id"


def _with_year(row: asyncpg.Record, start_year: int) -> SchoolWithYear:
    fields = dict(row)
    today = fields.pop("today")
    own = {k: fields.pop(k) for k in ("first_day", "last_day", "second_semester_start",
                                       "grade_band")}
    school = School(**fields)
    if own["first_day"] is None:
        return SchoolWithYear(school, None, today)
    band = own.pop("grade_band")
    year = SchoolYear(start_year=start_year, source=Source.SCHOOL,
                      grade_band=GradeBand(band) if band else None, **own)
    return SchoolWithYear(school, year, today)


async def school_with_year(conn: Connection, school_id: uuid.UUID, start_year: int,
                           now: datetime) -> SchoolWithYear | None:
    row = await conn.fetchrow(_OF_SCHOOL, school_id, start_year, now)
    return _with_year(row, start_year) if row else None


async def district_schools_with_year(conn: Connection, district_id: uuid.UUID,
                                     start_year: int, now: datetime) -> list[SchoolWithYear]:
    rows = await conn.fetch(_OF_DISTRICT, district_id, start_year, now)
    return [_with_year(r, start_year) for r in rows]


# save_school_year -- a school's own dates for a school year, replacing any it had
_SAVE_YEAR = """
insert into school_years (school_id, start_year, first_day, last_day, second_semester_start,
                          grade_band, updated_at, updated_by)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (school_id, start_year) do update set
    first_day = excluded.first_day, last_day = excluded.last_day,
    second_semester_start = excluded.second_semester_start,
    grade_band = excluded.grade_band, updated_at = excluded.updated_at,
    updated_by = excluded.updated_by
"""


async def save_school_year(conn: Connection, school_id: uuid.UUID, year: SchoolYear,
                           by: uuid.UUID, at: datetime) -> None:
    await conn.execute(_SAVE_YEAR, school_id, year.start_year, year.first_day, year.last_day,
                       year.second_semester_start, year.grade_band, at, by)


class DrillLogEntry(Value, kw_only=True):
    """One event of a school year's drill log; `date` is its start day at the school."""

    id: uuid.UUID
    school_id: uuid.UUID
    school_name: str
    date: date
    started_at: datetime
    ended_at: datetime | None
    duration_s: int | None
    action: Action
    hazard: Hazard | None
    purpose: Purpose | None
    drill: bool
    status: EventStatus
    location: str | None
    started_by: uuid.UUID
    started_by_name: str | None  # as the school names them; null: left before 0011
    end_reason: str | None


class LogWindow(Value):
    """The days (at the school, both included) whose events are in its drill log."""

    school_id: uuid.UUID
    first_day: date
    last_day: date


# year_events -- the events that started within each school's window (local days, in the
# school's time zone), oldest first, after the keyset (started_at, id). The windows are
# turned into instants first (materialized), so that each school is one index range of
# events_school_started (school_id, started_at), however many years it has kept.
_YEAR_EVENTS = f"""
with w as materialized (
    select w.school_id, s.name, s.timezone,
           w.first_day::timestamp at time zone s.timezone as since,
           (w.last_day + 1)::timestamp at time zone s.timezone as until
    from unnest($1::uuid[], $2::date[], $3::date[]) as w (school_id, first_day, last_day)
    join schools s on s.id = w.school_id
), ev as materialized (
    select e.id, e.school_id, w.name as school_name,
           (e.started_at at time zone w.timezone)::date as date, e.started_at, e.ended_at,
           floor(extract(epoch from e.ended_at - e.started_at))::integer as duration_s,
           e.action, e.hazard, e.purpose, e.drill, e.status, e.location, e.started_by,
           e.end_reason
    from w
    join events e on e.school_id = w.school_id and e.started_at >= w.since
                 and e.started_at < w.until
    where ($4::timestamptz is null or (e.started_at, e.id) > ($4, $5::uuid))
    order by e.started_at, e.id
    limit $6
), named as materialized (  -- each starter looked up once per school, not per event
    select p.started_by, p.school_id,
           {entry_name("p.started_by", "p.school_id")} as started_by_name
    from (select distinct started_by, school_id from ev) p
)
select ev.*, named.started_by_name
from ev join named using (started_by, school_id)
order by ev.started_at, ev.id
"""


async def year_events(conn: Connection, windows: Sequence[LogWindow],
                      after: tuple[datetime, uuid.UUID] | None = None,
                      limit: int | None = None) -> list[DrillLogEntry]:
    """Events of the schools' windows, oldest first; all of them unless `limit`."""
    started, last_id = after or (None, None)
    rows = await conn.fetch(_YEAR_EVENTS, [w.school_id for w in windows],
                            [w.first_day for w in windows], [w.last_day for w in windows],
                            started, last_id, limit)
    return [msgspec.convert(dict(r), DrillLogEntry) for r in rows]


# district_roles -- the roles a user's live memberships hold in a district
_DISTRICT_ROLES = """
select distinct role from memberships
where user_id = $1 and district_id = $2 and (expires_at is null or expires_at > $3)
"""


async def district_roles(conn: Connection, user_id: uuid.UUID, district_id: uuid.UUID,
                         now: datetime) -> set[Role]:
    rows = await conn.fetch(_DISTRICT_ROLES, user_id, district_id, now)
    return {Role(r["role"]) for r in rows}


async def load_rule_pack(conn: Connection, district_id: uuid.UUID) -> RulePack | None:
    """The district's own rule pack (validated when it was stored), if it has one."""
    pack = await conn.fetchval("select pack from district_rule_packs where district_id = $1",
                               district_id)
    return msgspec.convert(pack, RulePack) if pack is not None else None


# save_rule_pack -- a district's own rule pack, replacing the one it had
_SAVE_PACK = """
insert into district_rule_packs (district_id, pack, updated_at, updated_by)
values ($1, $2, $3, $4)
on conflict (district_id) do update set
    pack = excluded.pack, updated_at = excluded.updated_at, updated_by = excluded.updated_by
"""


async def save_rule_pack(conn: Connection, district_id: uuid.UUID, pack: RulePack,
                         by: uuid.UUID, at: datetime) -> None:
    await conn.execute(_SAVE_PACK, district_id, pack, at, by)


# year_assists -- the requests for help made within each school's window (local days), by
# kind: kept apart from the events, so that they never count as drills
_YEAR_ASSISTS = """
select a.kind, count(*)::int as n
from unnest($1::uuid[], $2::date[], $3::date[]) as w (school_id, first_day, last_day)
join schools s on s.id = w.school_id
join assists a on a.school_id = w.school_id
 and a.requested_at >= w.first_day::timestamp at time zone s.timezone
 and a.requested_at < (w.last_day + 1)::timestamp at time zone s.timezone
group by a.kind order by a.kind
"""


async def year_assists(conn: Connection, windows: Sequence[LogWindow]) -> dict[str, int]:
    """How many requests for help of each kind the schools' windows hold."""
    rows = await conn.fetch(_YEAR_ASSISTS, [w.school_id for w in windows],
                            [w.first_day for w in windows], [w.last_day for w in windows])
    return {r["kind"]: r["n"] for r in rows}
