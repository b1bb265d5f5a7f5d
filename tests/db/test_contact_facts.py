"""What a call to a school's contacts says, as read from the database: the school, its
address, the starter as the school names them, the room the event started from."""

from __future__ import annotations

from db.contacts import call_facts
from db.events import load_event
from tests import factories
from tests.conftest import T0


async def test_the_facts_name_the_starter_as_the_school_does_and_the_room(db):
    d = await factories.district(db)
    school = await factories.school(db, d, "Riverbend High")
    other = await factories.school(db, d, "Cedar Elementary")
    sro = await factories.person(db, d, school, "sro")
    await db.execute("update memberships set name = 'Officer Diaz' where user_id = $1", sro)
    await db.execute("update users set name = 'Dee' where id = $1", sro)
    await db.execute("update schools set address = '4200 River Road' where id = $1", school)
    [room] = await factories.rooms(db, school, 1)
    event_id = await factories.lockdown(db, school, sro, T0)
    facts = await call_facts(db, (await load_event(db, event_id)).event)
    assert (facts.school_name, facts.address, facts.timezone, facts.started_by, facts.room
            ) == ("Riverbend High", "4200 River Road", "America/Chicago", "Officer Diaz", None)
    await db.execute("update events set room_id = $2 where id = $1", event_id, room)
    facts = await call_facts(db, (await load_event(db, event_id)).event)
    assert facts.room == "R-001 Room 1"
    other_event = await factories.lockdown(db, other, sro, T0)  # not a member there
    facts = await call_facts(db, (await load_event(db, other_event)).event)
    assert (facts.school_name, facts.address, facts.started_by) == (
        "Cedar Elementary", None, None)
