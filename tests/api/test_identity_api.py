"""A person's phone is who they are at every school (issue 12, hole 1): only they (with a
code texted to the new phone) or someone who manages them everywhere may change it; each
school sees its own directory entry of its staff, never another school's nor the person's
own; a phone change signs the person out everywhere."""

from __future__ import annotations

import re
import uuid

from tests import admin_world
from tests.admin_world import snapshot
from tests.api.test_signin_api import (  # noqa: F401 (clock, texts: its fixtures)
    OTP,
    TOKEN,
    auth,
    clock,
    sign_in,
    texts,
)
from tests.conftest import bearer

world = admin_world.world

STAFF = "/v1/schools/{school}/staff"
MEMBER = STAFF + "/{user}"
NEW_PHONE = "+15125550199"


async def phone_of(db, user) -> str:
    return await db.fetchval("select phone from users where id = $1", user)


async def test_the_attack_of_issue_12_takes_over_nobody(client, db, world, texts):  # noqa: F811
    """Alpha's SRO adds Beta's principal's phone to Alpha as a teacher: the 201 says nothing
    of her; changing her phone at Alpha is 403; a code to the SRO's number signs nobody in.
    (Before: the 201 named her, the PATCH moved her phone to the SRO's, and that number
    signed in as Beta's principal.)"""
    victim = world["elem_principal"]
    own = await db.fetchrow("select name, phone from users where id = $1", victim)
    sro = bearer(world["sro"])
    added = await client.post(STAFF.format(school=world["high"]), headers=sro,
                              json={"name": "Anyone", "phone": own["phone"], "role": "teacher"})
    assert added.status_code == 201, added.text
    assert (added.json()["name"], added.json()["email"]) == ("Anyone", None)
    assert own["name"] not in added.text
    before = await snapshot(db)
    r = await client.patch(MEMBER.format(school=world["high"], user=victim), headers=sro,
                           json={"phone": NEW_PHONE})
    assert r.status_code == 403, r.text
    assert await snapshot(db) == before
    assert r.headers["content-type"] == "application/problem+json"
    assert str(world["elem"]) not in r.text and "Beta" not in r.text
    assert await phone_of(db, victim) == own["phone"]
    assert (await client.post(OTP, json={"phone": NEW_PHONE})).status_code == 202
    assert texts() == []  # nobody has that number: no code, no sign-in


async def test_adding_a_known_phone_shows_only_what_the_school_typed(client, db, world):
    """The answer, the staff list and the audit hold Alpha's entry; Beta's list and the
    person's own profile keep theirs."""
    victim = world["elem_principal"]
    own = await db.fetchrow("select name, phone, email from users where id = $1", victim)
    typed = {"name": "Pat Visitor", "phone": own["phone"], "role": "staff",
             "email": "pat@alpha.example"}
    r = await client.post(STAFF.format(school=world["high"]), json=typed,
                          headers=bearer(world["principal"]))
    assert r.status_code == 201, r.text
    shown = typed | {"user_id": str(victim), "expires_at": None, "active": True,
                     "language": "en"}
    assert r.json() == shown
    listed = await client.get(STAFF.format(school=world["high"]),
                              headers=bearer(world["principal"]), params={"limit": 500})
    assert shown in listed.json()["items"]
    assert own["name"] not in listed.text
    audit = await client.get(f"/v1/schools/{world['high']}/audit",
                             headers=bearer(world["principal"]))
    assert audit.json()["items"][0]["detail"]["name"] == "Pat Visitor"
    at_beta = await client.get(MEMBER.format(school=world["elem"], user=victim).rsplit("/", 1)[0],
                               headers=bearer(world["admin"]), params={"limit": 500})
    assert {m["name"] for m in at_beta.json()["items"]} >= {own["name"]}
    assert "Pat Visitor" not in at_beta.text
    me = (await client.get("/v1/me", headers=bearer(victim))).json()
    assert (me["name"], me["email"]) == (own["name"], own["email"])


async def test_a_name_change_at_one_school_is_that_schools_alone(client, db, world):
    """Alpha renames its new staff member; Beta's entry and the person's own name stay."""
    victim = world["elem_principal"]
    own = await db.fetchval("select name from users where id = $1", victim)
    await client.post(STAFF.format(school=world["high"]), headers=bearer(world["principal"]),
                      json={"name": "Pat", "phone": await phone_of(db, victim), "role": "staff"})
    r = await client.patch(MEMBER.format(school=world["high"], user=victim),
                           json={"name": "Pat V.", "email": "p@alpha.example"},
                           headers=bearer(world["principal"]))
    assert r.status_code == 200 and r.json()["name"] == "Pat V.", r.text
    at_beta = await client.get(STAFF.format(school=world["elem"]), headers=bearer(world["admin"]))
    assert {m["name"] for m in at_beta.json()["items"] if m["user_id"] == str(victim)} == {own}
    assert await db.fetchval("select name from users where id = $1", victim) == own


async def test_whoever_manages_every_membership_may_change_the_phone(client, db, world):
    """A principal of both schools, or the district admin, may; the person's sessions end
    and each of their schools' audit trail records it."""
    victim = world["elem_principal"]
    old = await phone_of(db, victim)
    await client.post(STAFF.format(school=world["high"]), headers=bearer(world["principal"]),
                      json={"name": "Pat", "phone": old, "role": "staff"})
    refused = await client.patch(MEMBER.format(school=world["high"], user=victim),
                                 json={"phone": NEW_PHONE}, headers=bearer(world["principal"]))
    assert refused.status_code == 403, refused.text
    assert "POST /v1/me/phone" in refused.json()["detail"]
    await db.execute("insert into memberships (id, user_id, district_id, school_id, role, name) "
                     "values ($1, $2, $3, $4, 'principal', 'Co-principal')", uuid.uuid4(),
                     world["principal"], world["district"], world["elem"])
    r = await client.patch(MEMBER.format(school=world["high"], user=victim),
                           json={"phone": "(512) 555-0198"}, headers=bearer(world["principal"]))
    assert r.status_code == 200 and r.json()["phone"] == "+15125550198", r.text
    r = await client.patch(MEMBER.format(school=world["elem"], user=victim),
                           json={"phone": NEW_PHONE}, headers=bearer(world["admin"]))
    assert r.status_code == 200 and r.json()["phone"] == NEW_PHONE, r.text
    changes = await db.fetch("select school_id, detail from admin_audit where kind = "
                             "'phone_changed'")
    between = "+15125550198"
    assert {(c["school_id"], tuple(c["detail"]["phone"])) for c in changes} == {
        (world[school], phones) for school in ("high", "elem")
        for phones in ((old, between), (between, NEW_PHONE))}


async def test_nobody_changes_their_own_phone_as_staff(client, db, world):
    """Not even a district admin: the self-service route confirms the new phone."""
    r = await client.patch(MEMBER.format(school=world["high"], user=world["admin"]),
                           json={"phone": NEW_PHONE}, headers=bearer(world["admin"]))
    assert r.status_code == 403 and "POST /v1/me/phone" in r.json()["detail"], r.text


async def test_a_phone_change_signs_the_person_out_everywhere(client, db, world,
                                                              texts):  # noqa: F811
    """The teacher's refresh token and access token stop working, their phones are
    removed, and the old phone is told."""
    old = await phone_of(db, world["teacher"])
    tokens = await sign_in(client, old, texts)
    device = await client.post("/v1/me/devices", headers=auth(tokens),
                               json={"platform": "ios", "push_token": "teacher-phone"})
    assert device.status_code == 201, device.text
    r = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                           json={"phone": NEW_PHONE}, headers=bearer(world["principal"]))
    assert r.status_code == 200, r.text
    assert (await client.get("/v1/me", headers=auth(tokens))).status_code == 401
    refresh = await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert await db.fetchval("select count(*) from devices") == 0
    assert await db.fetchval("select ended_reason from sessions") == "phone_changed"
    assert texts()[-1] == (old, texts()[-1][1]) and NEW_PHONE[-4:] in texts()[-1][1]
    assert (await sign_in(client, NEW_PHONE, texts))["user"]["id"] == str(world["teacher"])


async def test_a_person_changes_their_own_phone_with_a_code(client, db, world,
                                                            texts):  # noqa: F811
    """A code goes to the new phone; with it the phone is theirs, their other sessions
    end, and this device gets new tokens. A wrong code changes nothing."""
    old = await phone_of(db, world["teacher"])
    tokens = await sign_in(client, old, texts)
    r = await client.post("/v1/me/phone", json={"phone": "(512) 555-0199"}, headers=auth(tokens))
    assert r.status_code == 202 and r.json() == {"expires_in": 300}, r.text
    to, text = texts()[-1]
    code = re.match(r"(\d{6}) is your Muster code to make this your phone number", text)[1]
    assert to == NEW_PHONE
    wrong = await client.post("/v1/me/phone/confirm", headers=auth(tokens),
                              json={"phone": NEW_PHONE, "code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "code"
    assert await phone_of(db, world["teacher"]) == old
    assert (await client.post(TOKEN, json={"phone": NEW_PHONE, "code": code})).status_code == 401
    r = await client.post("/v1/me/phone/confirm", headers=auth(tokens),
                          json={"phone": NEW_PHONE, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["phone"] == NEW_PHONE
    assert (await client.get("/v1/me", headers=auth(tokens))).status_code == 401
    assert (await client.post(TOKEN, json={"refresh_token": tokens["refresh_token"]})
            ).status_code == 401
    me = await client.get("/v1/me", headers=auth(r.json()))
    assert me.status_code == 200 and me.json()["phone"] == NEW_PHONE
    assert texts()[-1][0] == old
    audit = await db.fetchrow("select actor_id, detail from admin_audit where kind = "
                              "'phone_changed'")
    assert (audit["actor_id"], audit["detail"]["phone"]) == (world["teacher"], [old, NEW_PHONE])


async def test_a_taken_phone_gets_the_same_answer_and_no_change(client, db, world,
                                                                texts):  # noqa: F811
    """Asking for someone else's phone is the same 202 (and no text to them); a phone
    taken between the code and its confirmation is 409."""
    tokens = await sign_in(client, await phone_of(db, world["teacher"]), texts)
    sent = len(texts())
    taken = await client.post("/v1/me/phone", json={"phone": await phone_of(db, world["sro"])},
                              headers=auth(tokens))
    assert taken.status_code == 202 and len(texts()) == sent
    await client.post("/v1/me/phone", json={"phone": NEW_PHONE}, headers=auth(tokens))
    code = texts()[-1][1][:6]
    await client.patch(MEMBER.format(school=world["high"], user=world["staff"]),
                       json={"phone": NEW_PHONE}, headers=bearer(world["principal"]))
    r = await client.post("/v1/me/phone/confirm", headers=auth(tokens),
                          json={"phone": NEW_PHONE, "code": code})
    assert r.status_code == 409, r.text
    assert (await client.get("/v1/me", headers=auth(tokens))).status_code == 200


async def test_my_own_name_is_mine_and_no_schools(client, db, world):
    """PATCH /v1/me renames the person for themselves; Alpha's staff list, the timeline of
    an event they start and the drill log keep Alpha's entry for them."""
    sro = bearer(world["sro"])
    entry = await db.fetchval("select name from memberships where user_id = $1", world["sro"])
    r = await client.patch("/v1/me", json={"name": "Secret Self", "email": "me@self.example"},
                           headers=sro)
    assert r.status_code == 200 and (r.json()["name"], r.json()["email"]) == (
        "Secret Self", "me@self.example"), r.text
    started = await client.post(f"/v1/schools/{world['high']}/events", headers=sro,
                                json={"action": "hold", "drill": True})
    event = started.json()["id"]
    views = [await client.get(f"/v1/events/{event}/timeline", headers=sro),
             await client.get(f"/v1/events/{event}/deliveries", headers=sro),
             await client.get(f"/v1/schools/{world['high']}/drill-log",
                              params={"school_year": "2026-2027"}, headers=sro),
             await client.get(STAFF.format(school=world["high"]), headers=sro)]
    for view in views:
        assert view.status_code == 200, view.text
        assert "Secret Self" not in view.text and entry in view.text, view.text
    assert (await client.get("/v1/me", headers=sro)).json()["name"] == "Secret Self"


async def test_a_school_still_names_the_people_it_had(client, db, world):
    """Once removed from the staff, the SRO who started a drill is still named in its
    timeline as the school knew them (not as they name themselves)."""
    sro = bearer(world["sro"])
    entry = await db.fetchval("select name from memberships where user_id = $1", world["sro"])
    await client.patch("/v1/me", json={"name": "Secret Self"}, headers=sro)
    started = await client.post(f"/v1/schools/{world['high']}/events", headers=sro,
                                json={"action": "hold", "drill": True})
    await client.delete(MEMBER.format(school=world["high"], user=world["sro"]),
                        headers=bearer(world["principal"]))
    timeline = await client.get(f"/v1/events/{started.json()['id']}/timeline",
                                headers=bearer(world["principal"]))
    assert timeline.json()["items"][0]["actor"]["name"] == entry


async def test_a_staff_file_with_a_known_phone_sets_only_the_entry(client, db, world):
    """The file's name and email are Alpha's entry; the person's own details, phone and
    Beta's entry are untouched."""
    victim = world["elem_principal"]
    own = await db.fetchrow("select name, phone, email from users where id = $1", victim)
    r = await client.post(STAFF.format(school=world["high"]) + "/import",
                          content=f"name,phone,role,email\nWhoever,{own['phone']},staff,"
                                  "w@alpha.example\n".encode(),
                          headers=bearer(world["principal"]) | {"content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["added"] == 1, r.text
    listed = await client.get(STAFF.format(school=world["high"]),
                              headers=bearer(world["principal"]))
    [mine] = [m for m in listed.json()["items"] if m["user_id"] == str(victim)]
    assert (mine["name"], mine["email"]) == ("Whoever", "w@alpha.example")
    assert own["name"] not in listed.text
    assert await db.fetchrow("select name, phone, email from users where id = $1",
                             victim) == own
