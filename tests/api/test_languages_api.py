"""A person's language (issue 15): theirs at every school, so set by themselves or by
someone who manages them at every school, never by one school for another; every
message Muster sends them is in it, and a sign-in code is too."""

from __future__ import annotations

import uuid

from tests import admin_world
from tests.admin_world import snapshot
from tests.api.test_signin_api import OTP, clock, texts  # noqa: F401 (its fixtures)
from tests.conftest import bearer

world = admin_world.world

STAFF = "/v1/schools/{school}/staff"
MEMBER = STAFF + "/{user}"
CSV = {"content-type": "text/csv"}


async def language_of(db, user) -> str:
    return await db.fetchval("select language from users where id = $1", user)


async def test_a_person_sets_their_own_language(client, db, world):
    """PATCH /v1/me takes `language`; GET /v1/me shows it; every school audits it."""
    sro = bearer(world["sro"])
    r = await client.patch("/v1/me", json={"language": "es"}, headers=sro)
    assert r.status_code == 200 and r.json()["language"] == "es", r.text
    assert (await client.get("/v1/me", headers=sro)).json()["language"] == "es"
    assert await language_of(db, world["sro"]) == "es"
    audit = await db.fetch("select school_id, actor_id, detail from admin_audit "
                           "where kind = 'language_changed'")
    assert [(a["school_id"], a["actor_id"], a["detail"]["language"]) for a in audit] == [
        (world["high"], world["sro"], ["en", "es"])]


async def test_an_unknown_language_is_a_400_naming_it(client, db, world):
    before = await snapshot(db)
    for path, school in (("/v1/me", None), (MEMBER, world["high"])):
        url = path.format(school=school, user=world["teacher"])
        r = await client.patch(url, json={"language": "fr"}, headers=bearer(world["principal"]))
        assert r.status_code == 400 and "language" in r.text, r.text
    assert await snapshot(db) == before


async def test_a_school_sets_the_language_of_whom_it_alone_has(client, db, world):
    """Alpha's principal sets Alpha's teacher's language (the answer shows it)."""
    r = await client.patch(MEMBER.format(school=world["high"], user=world["teacher"]),
                           json={"language": "es"}, headers=bearer(world["principal"]))
    assert r.status_code == 200 and r.json()["language"] == "es", r.text
    assert await language_of(db, world["teacher"]) == "es"


async def test_one_school_never_sets_the_language_of_someone_elsewhere(client, db, world):
    """Beta's principal, added to Alpha as staff: Alpha's principal may not set her
    language (it is how Beta reaches her), by PATCH, by POST or by a file; nothing is
    stored. The district admin, who manages her everywhere, may; so may she."""
    victim = world["elem_principal"]
    phone = await db.fetchval("select phone from users where id = $1", victim)
    principal = bearer(world["principal"])
    added = await client.post(STAFF.format(school=world["high"]), headers=principal,
                              json={"name": "Pat", "phone": phone, "role": "staff",
                                    "language": "es"})
    assert added.status_code == 403 and "PATCH /v1/me" in added.text, added.text
    await client.post(STAFF.format(school=world["high"]), headers=principal,
                      json={"name": "Pat", "phone": phone, "role": "staff"})
    before = await snapshot(db)
    r = await client.patch(MEMBER.format(school=world["high"], user=victim), headers=principal,
                           json={"language": "es", "name": "Pat S."})
    assert r.status_code == 403, r.text
    r = await client.post(STAFF.format(school=world["high"]) + "/import",
                          headers=principal | CSV,
                          content=f"name,phone,role,language\nPat,{phone},staff,es\n".encode())
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0] | {"message": ""} == {"row": 2, "column": "language",
                                                       "message": ""}
    assert await snapshot(db) == before
    r = await client.patch(MEMBER.format(school=world["elem"], user=victim),
                           json={"language": "es"}, headers=bearer(world["admin"]))
    assert r.status_code == 200 and r.json()["language"] == "es", r.text
    r = await client.patch(MEMBER.format(school=world["elem"], user=victim),
                           json={"language": "en"}, headers=bearer(victim))  # her own
    assert r.status_code == 200 and r.json()["language"] == "en", r.text
    audit = await db.fetch("select school_id from admin_audit where kind = 'language_changed'")
    assert sorted(a["school_id"] for a in audit) == sorted([world["high"], world["elem"]] * 2)


async def test_a_staff_file_sets_languages(client, db, world):
    """The optional `language` column: new people get it (English when empty), a person
    the school alone has gets it, an empty cell keeps it, a bad one names row and column;
    a file that changes only languages says how many it updated."""
    principal = bearer(world["principal"]) | CSV
    teacher_phone = await db.fetchval("select phone from users where id = $1", world["teacher"])
    url = STAFF.format(school=world["high"]) + "/import"
    bad = await client.post(url, headers=principal,
                            content=b"name,phone,role,language\nAna,+17375550190,staff,fr\n")
    assert bad.status_code == 400, bad.text
    assert bad.json()["errors"][0]["row"] == 2 and bad.json()["errors"][0]["column"] == "language"
    r = await client.post(url, headers=principal, content=(
        "name,phone,role,language\nAna,+17375550190,staff,ES\nBo,+17375550191,staff,\n"
        f"Teacher,{teacher_phone},teacher,es\n").encode())
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2
    languages = dict(await db.fetch("select phone, language from users where phone = any($1)",
                                    ["+17375550190", "+17375550191", teacher_phone]))
    assert languages == {"+17375550190": "es", "+17375550191": "en", teacher_phone: "es"}
    again = await client.post(url, headers=principal, content=(
        b"name,phone,role,language\nAna,+17375550190,staff,en\nBo,+17375550191,staff,\n"
        ))
    assert again.json() == {"added": 0, "updated": 1, "unchanged": 1}, again.text
    assert await db.fetchval("select language from users where phone = '+17375550190'") == "en"


async def test_the_sign_in_code_is_in_the_phones_owners_language(client, db, world,
                                                               texts):  # noqa: F811
    """A Spanish speaker's code comes in Spanish, as GSM-7 (one segment); an unknown phone
    gets the same answer, and nothing is sent."""
    await db.execute("update users set language = 'es' where id = $1", world["teacher"])
    phone = await db.fetchval("select phone from users where id = $1", world["teacher"])
    r = await client.post(OTP, json={"phone": phone})
    unknown = await client.post(OTP, json={"phone": "+17375550177"})
    assert (r.status_code, r.json()) == (unknown.status_code, unknown.json()) == (
        202, {"expires_in": 300})
    [(to, text)] = texts()
    assert to == phone and text.endswith(" es su codigo para entrar en Muster. Vence en 5 "
                                         "minutos. No lo comparta con nadie."), text


async def test_alerts_and_endings_reach_each_person_in_their_language(client, db, world):
    """A Spanish-speaking teacher's SMS and push say SIMULACRO and ENCIERRO; the
    cancellation too; the principal's stay English."""
    await db.execute("update users set language = 'es' where id = $1", world["teacher"])
    principal = bearer(world["principal"])
    started = await client.post(f"/v1/schools/{world['high']}/events", headers=principal,
                                json={"action": "lockdown", "drill": True})
    assert started.status_code == 201, started.text
    event = uuid.UUID(started.json()["id"])
    r = await client.post(f"/v1/events/{event}/cancel", headers=principal,
                          json={"reason": "Se presionó por error"})
    assert r.status_code == 200, r.text
    rows = await db.fetch("select user_id, kind, channel, body from notification_outbox "
                          "where event_id = $1 and user_id = any($2)", event,
                          [world["teacher"], world["principal"]])
    bodies = {(r["user_id"], r["kind"], r["channel"]): r["body"] for r in rows}
    teacher, boss = world["teacher"], world["principal"]
    assert bodies[(teacher, "alert", "sms")].startswith(
        "SIMULACRO - ENCIERRO: Cierren con llave, apaguen las luces, no se dejen ver.\n")
    assert bodies[(boss, "alert", "sms")].startswith(
        "DRILL - LOCKDOWN: Locks, lights, out of sight.\n")
    assert bodies[(teacher, "cancelled", "sms")] == (
        "SIMULACRO - CANCELADO: Falsa alarma. Se presiono por error")
    assert bodies[(boss, "cancelled", "sms")] == (
        "DRILL - CANCELLED: False alarm. Se presiono por error")
