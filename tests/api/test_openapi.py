"""The published contract: openapi/openapi.json is valid OpenAPI 3.1, and a client generated
from it by openapi-python-client covers every route and works against the running app."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest
from openapi_spec_validator import validate

from api.app import create_app
from api.cli.openapi import render_openapi
from api.http.problems import PROBLEM_JSON
from tests import factories
from tests.api.test_signin_api import clock, texts  # noqa: F401 (fixtures)
from tests.conftest import SECRET
from tests.processes import ROOT, serving

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
BIN = Path(sys.executable).parent
PACKAGE = "muster_api_client"  # the generator's name for a document titled "Muster API"
CALLS = re.compile(r'"method": "(\w+)",\s*"url": "([^"]+)"')  # in each endpoint module
ANSWERS = re.compile(r"response\.status_code == (\d{3})\b")


def test_the_document_is_valid_openapi():
    """openapi-spec-validator accepts the document (an `http` security scheme once
    carried a `name`, which OpenAPI does not allow there)."""
    validate(json.loads(render_openapi()))


def _operations() -> dict[tuple[str, str], dict]:
    """(METHOD, path) -> operation, for every operation in the document."""
    paths = json.loads(render_openapi())["paths"]
    return {(method.upper(), path): operation for path, item in paths.items()
            for method, operation in item.items() if method in METHODS}


def test_every_error_is_documented_as_problem_json():
    """Every 4xx and 5xx a route documents is application/problem+json, as the app answers
    it (Litestar's own 400 shape once stood in where a route did not list its 400)."""
    not_problems = [(call, status, sorted(response.get("content", {})))
                    for call, operation in _operations().items()
                    for status, response in operation["responses"].items()
                    if status[0] in "45" and set(response.get("content", {})) != {PROBLEM_JSON}]
    assert not_problems == []


# -- a generated client ----------------------------------------------------------------

class Generated(NamedTuple):
    report: str  # what the generator printed
    endpoints: dict[tuple[str, str], ModuleType]  # (METHOD, path) -> its endpoint module
    models: ModuleType
    types: ModuleType
    client: ModuleType


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Iterator[Generated]:
    """A client generated from the app's document (with openapi/client.yaml) into a
    temporary directory, imported from there; forgotten afterwards."""
    where = tmp_path_factory.mktemp("generated")
    document = where / "openapi.json"
    document.write_text(render_openapi())
    done = subprocess.run(
        [BIN / "openapi-python-client", "generate", "--path", document, "--meta", "none",
         "--config", ROOT / "openapi" / "client.yaml"],
        cwd=where, capture_output=True, text=True, timeout=600,
        env=os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})  # its ruff
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield Generated(done.stdout + done.stderr, _endpoints(where / PACKAGE),
                        *(importlib.import_module(f"{PACKAGE}.{name}")
                          for name in ("models", "types", "client")))
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def _endpoints(package: Path) -> dict[tuple[str, str], ModuleType]:
    found = {}
    for source in sorted((package / "api").glob("*/*.py")):
        if source.stem != "__init__":
            method, path = CALLS.search(source.read_text()).groups()
            name = f"{PACKAGE}.api.{source.parent.name}.{source.stem}"
            found[(method.upper(), path)] = importlib.import_module(name)
    return found


def test_a_generated_client_covers_every_route_and_answer(generated):
    """The generator leaves nothing out (it once dropped the CSV imports, the readiness
    answer and a device removal's 400), and each operation of the document has its
    module, which parses every answer the document lists."""
    operations = _operations()
    assert set(generated.endpoints) == set(operations)
    parsed = {call: sorted(ANSWERS.findall(inspect.getsource(module)))
              for call, module in generated.endpoints.items()}
    assert parsed == {call: sorted(operation["responses"])
                      for call, operation in operations.items()}
    assert not re.search(r"warning|error|unable", generated.report, re.IGNORECASE), \
        generated.report


@pytest.fixture
async def principal(db):
    """A school without rooms and its principal, whose phone can receive a code."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    principal = await factories.person(db, d, s, "principal")
    phone = "+15125550177"
    await db.execute("update users set phone = $2 where id = $1", principal, phone)
    return {"school": s, "user": principal, "phone": phone}


async def _sign_in(generated: Generated, base: str, phone: str,
                   sent: Callable[[], list[tuple[str, str]]]) -> object:
    """Tokens for the code texted to `phone`: asked for, read from the console SMS, and
    exchanged, all with the generated client."""
    m, call = generated.models, generated.endpoints
    async with generated.client.Client(base_url=base,
                                       raise_on_unexpected_status=True) as anyone:
        r = await call["POST", "/v1/auth/otp"].asyncio_detailed(
            client=anyone, body=m.CodeRequest(phone=phone))
        assert r.status_code == 202, r.content
        [(_, text)] = sent()
        r = await call["POST", "/v1/auth/token"].asyncio_detailed(
            client=anyone, body=m.TokenRequest(phone=phone, code=text[:6]))
    assert isinstance(r.parsed, m.Tokens), r.content
    return r.parsed


async def _import_rooms(generated: Generated, me, school: uuid.UUID, csv: bytes) -> object:
    """Rooms from a CSV file, with the blocking call in a thread (httpx's async client
    cannot send a file object), which closes its blocking connection afterwards."""
    import_rooms = generated.endpoints["POST", "/v1/schools/{school_id}/rooms/import"]
    body = inspect.signature(import_rooms.sync_detailed).parameters["body"]
    assert body.annotation is generated.types.File  # the document says binary

    def upload():
        with me:
            return import_rooms.sync_detailed(school, client=me, body=generated.types.File(
                payload=io.BytesIO(csv), mime_type="text/csv"))
    r = await asyncio.to_thread(upload)
    assert isinstance(r.parsed, generated.models.SavedRooms), r.content
    return r.parsed


async def test_a_generated_client_signs_in_checks_in_and_reads_accountability(
        generated, principal, database_url, settings, clock, texts):  # noqa: F811
    """Over real HTTP: a principal signs in with the texted code, imports rooms from a
    CSV, starts a drill, checks a room in and reads accountability; readiness names
    her phone-less, and a phone she registers she can remove."""
    m, call, school = generated.models, generated.endpoints, principal["school"]
    app = create_app(settings, database_url=database_url, secret=SECRET, clock=clock,
                     dispatch=False)
    async with serving(app) as base:
        tokens = await _sign_in(generated, base, principal["phone"], texts)
        assert tokens.user.id == principal["user"]
        me = generated.client.AuthenticatedClient(
            base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)
        saved = await _import_rooms(generated, me, school, b"code,name\nT-1,Gym\nT-2,Library\n")
        assert saved.created == 2
        gym = next(room.id for room in saved.items if room.code == "T-1")
        async with me:
            r = await call["POST", "/v1/schools/{school_id}/events"].asyncio_detailed(
                school, client=me, body=m.EventIn(action=m.Action.LOCKDOWN, drill=True))
            assert isinstance(r.parsed, m.Event) and r.status_code == 201, r.content
            event = r.parsed.id
            r = await call["POST", "/v1/events/{event_id}/checkins"].asyncio_detailed(
                event, client=me, body=m.CheckInIn(client_id=uuid.uuid4(), room_id=gym,
                                                    status=m.CheckInStatus.OK,
                                                    students_present=24))
            assert isinstance(r.parsed, m.CheckIn) and r.status_code == 201, r.content
            r = await call["GET", "/v1/events/{event_id}/accountability"].asyncio_detailed(
                event, client=me)
            counted = r.parsed
            assert isinstance(counted, m.AccountabilityOut), r.content
            assert (counted.rooms_total, counted.rooms_ok) == (2, 1)
            assert [room.code for room in counted.unreported_rooms] == ["T-2"]

            r = await call["GET", "/v1/schools/{school_id}/readiness"].asyncio_detailed(
                school, client=me)
            assert isinstance(r.parsed, m.Readiness), r.content
            assert [(u.user_id, u.problems) for u in r.parsed.unreachable] == [
                (principal["user"], [m.ReachProblem.NO_DEVICE])]
            r = await call["POST", "/v1/me/devices"].asyncio_detailed(client=me, body=m.DeviceIn(
                platform=m.DeviceInPlatform.IOS, push_token="fcm-1"))
            assert isinstance(r.parsed, m.Device), r.content
            r = await call["DELETE", "/v1/me/devices/{device_id}"].asyncio_detailed(
                r.parsed.id, client=me)
            assert r.status_code == 204, r.content
