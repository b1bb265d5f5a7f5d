"""`muster serve` as a client on the network meets it: which address a request is counted
against, and the bounds on a request's head (size, number of headers, time to send it)."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterator

import asyncpg
import httpx
import pytest

from api.http.serving import HEAD_BYTES, HEAD_FIELDS
from tests.conftest import SECRET
from tests.processes import free_port, serve, stop, wait_ready

Start = Callable[..., int]


@pytest.fixture
def serving(fresh_database, tmp_path) -> Iterator[Start]:
    """Starts `muster serve` with these MUSTER_* variables and answers its port; all
    are stopped after the test."""
    started = []

    def start(**variables: str) -> int:
        port = free_port()
        proc = serve(port, tmp_path / "serve.log", MUSTER_DATABASE_URL=fresh_database,
                     MUSTER_DATA_DIR=str(tmp_path), MUSTER_JWT_SECRET=SECRET, **variables)
        started.append(proc)
        wait_ready(f"http://127.0.0.1:{port}", proc)
        return port

    yield start
    for proc in started:
        stop(proc)


async def code_addresses(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return [r["client_address"] for r in
                await conn.fetch("select client_address from auth_codes order by created_at")]
    finally:
        await conn.close()


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(serving, fresh_database):
    """Without MUSTER_TRUSTED_PROXIES a fresh X-Forwarded-For per request changes
    nothing: the codes are counted against the peer, whose 61st in ten minutes is 429."""
    port = serving()
    statuses = [httpx.post(f"http://127.0.0.1:{port}/v1/auth/otp",
                           json={"phone": f"+1512555{n:04d}"},
                           headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                for n in range(61)]
    assert statuses == [202] * 60 + [429]
    assert set(await code_addresses(fresh_database)) == {"127.0.0.1"}


async def test_forwarded_for_is_believed_from_a_trusted_proxy(serving, fresh_database):
    port = serving(MUSTER_TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1")
    r = httpx.post(f"http://127.0.0.1:{port}/v1/auth/otp", json={"phone": "+15125550142"},
                   headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 202
    assert await code_addresses(fresh_database) == ["203.0.113.9"]


def head(*fields: bytes) -> bytes:
    return b"GET /health HTTP/1.1\r\nhost: x\r\n" + b"".join(f + b"\r\n" for f in fields)


def answer_to(port: int, data: bytes) -> bytes:
    """Send `data` and read until the server closes the connection (a reset counts as
    closing); what it answered. Waits at most a minute."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        try:
            s.sendall(data)
            return b"".join(iter(lambda: s.recv(65536), b""))
        except (ConnectionResetError, BrokenPipeError):
            return b""


def test_an_ordinary_large_head_is_served(serving):
    port = serving(MUSTER_HEAD_TIMEOUT="1")
    fields = [b"x-n%d: %d" % (n, n) for n in range(HEAD_FIELDS - 3)]  # with host, x-big, connection
    fields.append(b"x-big: " + b"a" * (HEAD_BYTES - 2000))
    answer = answer_to(port, head(*fields, b"connection: close") + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_too_many_headers_are_431_and_the_connection_closes(serving):
    port = serving(MUSTER_HEAD_TIMEOUT="1")
    fields = [b"x-n%d: %d" % (n, n) for n in range(HEAD_FIELDS)]
    answer = answer_to(port, head(*fields) + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ") and b"connection: close" in answer


def test_a_too_large_head_is_refused_and_the_connection_closes(serving):
    """A head a little over the bound, whole: 431. A 1 MB header sent as an attacker
    does, in pieces and never finished: the server closes the connection long before
    the megabyte is through."""
    port = serving(MUSTER_HEAD_TIMEOUT="1")
    answer = answer_to(port, head(b"x-big: " + b"a" * HEAD_BYTES) + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""  # or reset before reading
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        try:
            s.sendall(head() + b"x-big: ")
            for _ in range(256):
                s.sendall(b"a" * 4096)
            answer = b"".join(iter(lambda: s.recv(65536), b""))  # a timeout if left open
        except (ConnectionResetError, BrokenPipeError):
            answer = b""  # closed while the megabyte was still being sent
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""


def test_a_slow_head_is_closed_after_the_bound(serving):
    """A client that sends its head a byte at a time (slowloris) is answered 408 and
    closed once MUSTER_HEAD_TIMEOUT (1 s here) has passed, though it never stops sending;
    so is one that connects and sends nothing."""
    port = serving(MUSTER_HEAD_TIMEOUT="1")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(head())
        for _ in range(300):  # 60 s at most
            readable, _, _ = select.select([s], [], [], 0.2)
            if readable:
                break
            s.sendall(b"x")
        answer = b"".join(iter(lambda: s.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert answer_to(port, b"").startswith(b"HTTP/1.1 408 ")
