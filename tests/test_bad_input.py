import uuid

from tests import factories
from tests.conftest import bearer


async def test_probe(client, db, clock):
    d = await factories.district(db)
    s = await factories.school(db, d)
    rooms = await factories.rooms(db, s, 2)
    sro = await factories.person(db, d, s, "sro")
    h = bearer(sro)
    url = f"/v1/schools/{s}/events"
    cases = [
        ("POST", url, {"content": b"{bad", "headers": h | {"content-type": "application/json"}}),
        ("POST", url, {"content": b"", "headers": h | {"content-type": "application/json"}}),
        ("POST", url, {"content": b"", "headers": h}),
        ("POST", url, {"json": [], "headers": h}),
        ("POST", url, {"json": None, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False, "x": 1}, "headers": h}),
        ("POST", url, {"json": {"action": "panic", "drill": False}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": "yes"}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": "false"}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": 0}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown"}, "headers": h}),
        ("POST", url, {"json": {"action": "shelter", "drill": False, "hazard": "zombies"}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False, "message": "x" * 1001}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False, "message": 5}, "headers": h}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False}, "headers": h | {"Idempotency-Key": "k" * 201}}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False}, "headers": h | {"Idempotency-Key": ""}}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False}, "headers": {"Authorization": "Bearer nope"}}),
        ("POST", url, {"json": {"action": "lockdown", "drill": False}}),
        ("POST", "/v1/schools/abc/events", {"json": {"action": "lockdown", "drill": False}, "headers": h}),
        ("GET", "/v1/events/abc", {"headers": h}),
        ("GET", url, {"params": {"limit": "2.5"}, "headers": h}),
        ("GET", url, {"params": {"limit": "0"}, "headers": h}),
        ("GET", url, {"params": {"status": "fine"}, "headers": h}),
        ("GET", url, {"params": {"drill": "maybe"}, "headers": h}),
        ("GET", url, {"params": {"since": "yesterday"}, "headers": h}),
        ("GET", url, {"params": {"cursor": "!!!"}, "headers": h}),
        ("GET", url, {"params": {"cursor": "WzEsMl0"}, "headers": h}),
        ("GET", url, {"params": {"cursor": "x" * 401}, "headers": h}),
        ("GET", url, {"params": {"until": "2026-11-29T08:00:00"}, "headers": h}),
        ("GET", url, {"params": {"since": "2026-13-29T08:00:00Z"}, "headers": h}),
    ]
    for method, u, kw in cases:
        r = await client.request(method, u, **kw)
        print(method, u, {k: v for k, v in kw.items() if k != "headers"} if len(str(kw)) < 400 else "...", "->", r.status_code, r.headers.get("content-type"), r.text[:400])
    r = await client.post(url, json={"action": "lockdown", "drill": False}, headers=h)
    ev = r.json()["id"]
    eu = f"/v1/events/{ev}/checkins"
    base = {"client_id": str(uuid.uuid4()), "room_id": str(rooms[0]), "status": "ok", "students_present": 3}
    for patch in [{"students_present": "24"}, {"students_present": 2.5}, {"students_present": 2.0}, {"students_present": True},
                  {"students_present": -1}, {"students_present": 10001}, {"client_id": "abc"}, {"room_id": 42},
                  {"status": "fine"}, {"observed_at": "2026-11-29T08:00:00"}, {"observed_at": "nope"}, {"observed_at": 5},
                  {"injured": None}, {"students_present": None}]:
        r = await client.post(eu, json=base | patch | {"client_id": patch.get("client_id", str(uuid.uuid4()))}, headers=h)
        print(patch, "->", r.status_code, r.headers.get("content-type"), r.text[:400])
    for path, body in [("actions", {"action": "evacuate"}), ("actions", {"action": "shelter"}), ("cancel", {}), ("cancel", {"reason": "   "}), ("all-clear", {"message": 3}), ("all-clear", None)]:
        r = await client.post(f"/v1/events/{ev}/{path}", json=body, headers=h)
        print(path, body, "->", r.status_code, r.headers.get("content-type"), r.text[:400])
    r = await client.post(f"/v1/events/{ev}/ack", content=b"{bad", headers=h | {"content-type": "application/json"})
    print("ack bad", r.status_code, r.text[:300])
