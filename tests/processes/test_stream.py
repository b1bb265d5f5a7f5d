"""The live stream across processes: two `muster serve` on one database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import msgspec
import pytest

from api.cli.demo import DemoReport
from tests.processes import demo_contact_phones, env, free_port, run, serve, stop, wait_ready
from tests.waiting import eventually_blocking

SECRET = "stream-test-secret-" + "z" * 32


@pytest.fixture
def two_servers(fresh_database, tmp_path):
    """Two API processes sharing one database and signing secret, with demo data."""
    variables = {"MUSTER_DATABASE_URL": fresh_database, "MUSTER_JWT_SECRET": SECRET,
                 "MUSTER_DATA_DIR": str(tmp_path)}
    demo = msgspec.json.decode(run("demo", "--json", env=env(**variables)).stdout,
                               type=DemoReport)
    ports = [free_port(), free_port()]
    procs = [serve(port, tmp_path / f"serve-{port}.log", **variables) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, proc in zip(bases, procs, strict=True):
            wait_ready(base, proc)
        yield demo, bases, tmp_path
    finally:
        for proc in procs:
            stop(proc)


def _read_events(lines: Iterator[str], count: int) -> list[dict]:
    """The next `count` SSE messages (event, id, data), skipping heartbeats."""
    events, current = [], {}
    for line in lines:
        if not line:
            if current:
                events.append(current)
                current = {}
            if len(events) == count:
                return events
            continue
        field, _, value = line.partition(": ")
        if field in ("event", "id", "data"):
            current[field] = value
    raise AssertionError(f"stream ended after {events}")


def _read_until(lines: Iterator[str], kind: str) -> list[dict]:
    """Messages up to and including the first of `kind` (delivery milestones from the
    servers' dispatchers interleave with what the test does)."""
    seen: list[dict] = []
    while not seen or seen[-1]["event"] != kind:
        seen += _read_events(lines, 1)
    return seen


def test_checkin_posted_to_one_process_arrives_on_a_stream_of_the_other(two_servers):
    """A check-in posted to server A reaches a dashboard streaming from server B, with
    gap-free ids, and a dashboard resuming with Last-Event-ID gets exactly what came after."""
    demo, (a, b), _ = two_servers
    school = demo.schools[0]
    sro = next(u for u in school.users if u.role == "sro")
    teacher = next(u for u in school.users if u.role == "teacher")
    auth = {"Authorization": f"Bearer {sro.access_token}"}
    event = httpx.post(f"{a}/v1/schools/{school.id}/events", headers=auth,
                       json={"action": "lockdown", "drill": False}).json()
    client_id = str(uuid.uuid4())
    with httpx.stream("GET", f"{b}/v1/events/{event['id']}/stream", headers=auth,
                      timeout=10) as live:
        assert live.status_code == 200
        lines = live.iter_lines()
        [started] = _read_events(lines, 1)
        assert (started["event"], started["id"]) == ("status", "1")
        r = httpx.post(f"{a}/v1/events/{event['id']}/checkins",
                       headers={"Authorization": f"Bearer {teacher.access_token}"},
                       json={"client_id": client_id, "room_id": str(school.rooms[0].id),
                             "status": "needs_help", "students_present": 21, "injured": 1})
        assert r.status_code == 201
        live_after_start = _read_until(lines, "checkin")
    checkin = live_after_start[-1]
    assert msgspec.json.decode(checkin["data"])["client_id"] == client_id
    assert [int(e["id"]) for e in live_after_start] == list(range(2, 2 + len(live_after_start)))
    assert {e["event"] for e in live_after_start[:-1]} <= {"delivery"}

    httpx.post(f"{a}/v1/events/{event['id']}/actions", headers=auth,
               json={"action": "evacuate", "location": "Football field"})
    with httpx.stream("GET", f"{b}/v1/events/{event['id']}/stream", timeout=10,
                      headers=auth | {"Last-Event-ID": "1"}) as resumed:
        replayed = _read_until(resumed.iter_lines(), "action")
    assert replayed[:len(live_after_start)] == live_after_start  # byte for byte, from the table
    assert [int(e["id"]) for e in replayed] == list(range(2, 2 + len(replayed)))
    assert msgspec.json.decode(replayed[-1]["data"])["location"] == "Football field"


def test_hand_off_milestone_reaches_the_stream(two_servers):
    """Once the servers' dispatchers have handed every alert to a provider (the console
    here), a `delivery` message with the counts reaches the dashboard."""
    demo, (a, b), _ = two_servers
    school = demo.schools[1]
    sro = next(u for u in school.users if u.role == "sro")
    auth = {"Authorization": f"Bearer {sro.access_token}"}
    event = httpx.post(f"{a}/v1/schools/{school.id}/events", headers=auth,
                       json={"action": "hold", "drill": False}).json()
    with httpx.stream("GET", f"{b}/v1/events/{event['id']}/stream", headers=auth,
                      timeout=10) as live:
        messages = _read_until(live.iter_lines(), "delivery")
    handed = [msgspec.json.decode(m["data"]) for m in messages if m["event"] == "delivery"]
    # every member and the district admin get an SMS; nobody has a device: push is skipped;
    # each of the school's contacts gets a call and an SMS
    assert handed[-1] == {"milestone": "handed_off", "failed": 0, "sent": len(school.users)
                          + 1 + 2 * len(demo_contact_phones(school.name))}


def test_stream_of_another_tenants_event_is_404(two_servers):
    """A district admin of another district cannot open the stream."""
    demo, (a, _), _ = two_servers
    school = demo.schools[0]
    sro = next(u for u in school.users if u.role == "sro")
    event = httpx.post(f"{a}/v1/schools/{school.id}/events",
                       headers={"Authorization": f"Bearer {sro.access_token}"},
                       json={"action": "hold", "drill": False}).json()
    other_school_teacher = next(u for u in demo.schools[1].users if u.role == "teacher")
    r = httpx.get(f"{a}/v1/events/{event['id']}/stream", timeout=10,
                  headers={"Authorization": f"Bearer {other_school_teacher.access_token}"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_a_lockdown_is_sent_by_the_servers_dispatchers(two_servers):
    """Without provider credentials, the servers' dispatchers send the lockdown to the
    console: one SMS line per staff member of the school, once across both servers."""
    demo, (a, _), logs = two_servers
    school = demo.schools[1]
    sro = next(u for u in school.users if u.role == "sro")
    r = httpx.post(f"{a}/v1/schools/{school.id}/events", json={"action": "lockdown",
                   "drill": False}, headers={"Authorization": f"Bearer {sro.access_token}"})
    assert r.status_code == 201
    # and the district admin, and the school's contacts
    expected = len(school.users) + 1 + len(demo_contact_phones(school.name))

    def lockdown_lines() -> list[str]:
        return [line for log in logs.glob("serve-*.log") for line in log.read_text().splitlines()
                if "SMS to" in line and "LOCKDOWN: Locks, lights, out of sight." in line]

    eventually_blocking(lambda: len(lockdown_lines()) >= expected)
    lines = lockdown_lines()
    assert len(lines) == expected
