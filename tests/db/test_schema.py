"""The schema's own integrity rules: what no bug above may store."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests import factories
from tests.conftest import T0


@pytest.fixture
async def school(db):
    return await factories.staffed_school(db, "sro", room_count=2)


async def _event(db, school, *, status="active", drill=False) -> uuid.UUID:
    event_id = uuid.uuid4()
    ended = None if status == "active" else T0
    await db.execute(
        """insert into events (id, school_id, action, drill, status, directive, started_at,
                               started_by, ended_at)
           values ($1, $2, 'lockdown', $3, $4, 'Locks, lights, out of sight.', $5, $6, $7)""",
        event_id, school["id"], drill, status, T0, school["sro"], ended)
    return event_id


async def _checkin(db, school, event_id, *, room=None, client_id=None, present=20):
    await db.execute(
        """insert into checkins (id, event_id, school_id, room_id, client_id, status,
                                 students_present, observed_at, received_at, reported_by)
           values ($1, $2, $3, $4, $5, 'ok', $6, $7, $7, $8)""",
        uuid.uuid4(), event_id, school["id"], room or school["rooms"][0],
        client_id or uuid.uuid4(), present, T0, school["sro"])


async def test_one_active_event_per_school(db, school):
    """A second active event in the same school violates the partial unique index."""
    await _event(db, school)
    with pytest.raises(asyncpg.UniqueViolationError, match="events_one_active_per_school"):
        await _event(db, school, drill=True)
    await _event(db, school, status="all_clear")  # ended events do not count


async def test_checkin_client_id_is_unique_per_event(db, school):
    """The same client_id twice in one event is refused by name."""
    event_id, client = await _event(db, school), uuid.uuid4()
    await _checkin(db, school, event_id, client_id=client)
    with pytest.raises(asyncpg.UniqueViolationError, match="checkins_event_client_key"):
        await _checkin(db, school, event_id, client_id=client)


async def test_negative_counts_are_refused(db, school):
    """Student counts cannot be negative."""
    event_id = await _event(db, school)
    with pytest.raises(asyncpg.CheckViolationError):
        await _checkin(db, school, event_id, present=-1)


async def test_checkin_room_must_belong_to_the_events_school(db, school):
    """A room of another school cannot be checked in to this school's event."""
    other = await factories.school(db, school["district"], "Other High")
    (foreign_room,) = await factories.rooms(db, other, 1)
    event_id = await _event(db, school)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await _checkin(db, school, event_id, room=foreign_room)


async def test_active_means_not_ended(db, school):
    """An active event with an end time, or an ended one without, is refused."""
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("""insert into events (id, school_id, action, drill, status, directive,
                                                started_at, started_by)
                            values ($1, $2, 'hold', false, 'all_clear', 'x', $3, $4)""",
                         uuid.uuid4(), school["id"], T0, school["sro"])


@pytest.mark.parametrize(("school_scoped", "role"), [(True, "district_admin"), (False, "teacher")])
async def test_district_admin_is_the_only_district_wide_role(db, school, school_scoped, role):
    """district_admin memberships have no school; every other role has one."""
    user = await factories.person(db, school["district"], school["id"], "staff")
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            """insert into memberships (id, user_id, district_id, school_id, role, name)
               values ($1, $2, $3, $4, $5, 'X')""", uuid.uuid4(), user, school["district"],
            school["id"] if school_scoped else None, role)


@pytest.mark.parametrize("phone", ["5125550100", "+0125550100", "+1 512 555 0100", "+1"])
async def test_phones_are_stored_as_e164_only(db, phone):
    """Anything but +<digits> is refused by the users table."""
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("insert into users (id, name, phone) values ($1, 'X', $2)",
                         uuid.uuid4(), phone)


async def test_an_action_outside_the_srp_is_refused(db, school):
    """Only the five SRP actions can be stored."""
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("""insert into events (id, school_id, action, drill, status, directive,
                                                started_at, started_by)
                            values ($1, $2, 'panic', false, 'active', 'x', $3, $4)""",
                         uuid.uuid4(), school["id"], T0, school["sro"])
