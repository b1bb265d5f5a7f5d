"""A fake FCM for benchmarks, in a process of its own, cheap enough never to be the
bottleneck: raw asyncio (uvloop when installed), HTTP/1.1 keep-alive, no framework.
The test suite's fake (tests/fakes/fcm.py) checks everything and costs a thread and
milliseconds a request; this one checks little and costs ~0.05 ms.

    .venv/bin/python bench/fcm_responder.py --port 8765 --latency-ms 50 \\
        [--error-rate 0.1 --unregistered-rate 0.01 --seed 1]

- `POST /token` (any body; the JWT is not verified) answers an access token for an hour.
- `POST /v1/projects/{project}/messages:send` answers after the latency: 401 without a
  token it issued; 503 UNAVAILABLE for a share `--error-rate` of sends (a seeded
  random draw); 404 UNREGISTERED for the share `--unregistered-rate` of device tokens
  a seeded hash picks (the same tokens every time); else 200 `{"name": ...}`.
- `GET /stats` answers the counts as JSON, and SIGTERM prints them on stdout before
  exiting: `received` (sends), `answered` (per HTTP status), `token_requests`,
  `accepted_twice` (device tokens accepted more than once), `settled` (device tokens
  answered 200 or 404 at least once: FCM has them, for good), `connections` (opened
  by clients, all told), and, unless
  `GET /stats?brief`, `tokens`, each device token's `[received, accepted, settled_at]`
  (settled_at: `time.monotonic()` when its first 200 or 404 was answered, 0 if none;
  CLOCK_MONOTONIC is the machine's, so other processes can compare) and `unregistered`,
  the device tokens answered 404.

On start it prints `listening on http://127.0.0.1:PORT` (`--port 0` picks a free port).
`service_account(base_url)` gives a credential for `FcmSender` whose `token_uri` is
this responder.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import random
import signal
import sys
import time
import typing
import zlib
from typing import Any

import msgspec

_OK = b"HTTP/1.1 200 OK\r\n"
_REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found", 503: b"Service Unavailable"}
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_SEND_PATH = b"/messages:send"


class _Message(msgspec.Struct):
    token: str | None = None


class _Send(msgspec.Struct):
    message: _Message


_read_send = msgspec.json.Decoder(_Send).decode
_encode = msgspec.json.encode


def _error(code: int, status: str, fcm_code: str | None = None) -> bytes:
    details = [{"@type": _FCM_ERROR, "errorCode": fcm_code}] if fcm_code else []
    return _encode({"error": {"code": code, "message": status.lower(), "status": status,
                              "details": details}})


_ANSWERS = {401: _error(401, "UNAUTHENTICATED"), 404: _error(404, "NOT_FOUND", "UNREGISTERED"),
            503: _error(503, "UNAVAILABLE")}


def response(status: int, body: bytes) -> bytes:
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        status, _REASONS.get(status, b"Other"), len(body), body)


class Responder:
    """The knobs, the counts, and the answer to each request."""

    def __init__(self, latency_s: float, error_rate: float, unregistered_rate: float,
                 seed: int) -> None:
        self.latency_s, self.error_rate = latency_s, error_rate
        self._unregistered_below = int(unregistered_rate * 2**32)
        self._seed = str(seed).encode()
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        self._issued: set[bytes] = set()
        self.token_requests = 0
        self.answered: collections.Counter[int] = collections.Counter()
        self.tokens: dict[str, list[float]] = {}
        self.unregistered: set[str] = set()
        self.settled = 0
        self.connections = 0

    def token(self) -> bytes:
        self.token_requests += 1
        access = f"bench-access-{next(self._ids)}"
        self._issued.add(b"bearer " + access.encode())
        return response(200, _encode({"access_token": access, "expires_in": 3600,
                                      "token_type": "Bearer"}))

    def send(self, path: bytes, authorization: bytes, body: bytes) -> bytes:
        """The answer to one send (written after the latency)."""
        try:
            token = _read_send(body).message.token or ""
        except msgspec.DecodeError:
            token = ""
        counts = self.tokens.setdefault(token, [0, 0, 0.0])
        counts[0] += 1
        if authorization not in self._issued:
            status = 401
        elif self._random.random() < self.error_rate:
            status = 503
        elif zlib.crc32(self._seed + token.encode()) < self._unregistered_below:
            status = 404
            self.unregistered.add(token)
        else:
            status = 200
            counts[1] += 1
        self.answered[status] += 1
        if status in (200, 404) and not counts[2]:
            counts[2] = time.monotonic() + self.latency_s  # when it is answered
            self.settled += 1
        if status != 200:
            return response(status, _ANSWERS[status])
        project = path.removeprefix(b"/v1/projects/").removesuffix(_SEND_PATH)
        return response(200, b'{"name":"projects/%s/messages/%d"}' % (project, next(self._ids)))

    def stats(self, brief: bool = False) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "received": sum(self.answered.values()),
            "answered": {str(k): v for k, v in sorted(self.answered.items())},
            "token_requests": self.token_requests,
            "accepted_twice": sum(1 for _, accepted, _ in self.tokens.values() if accepted > 1),
            "settled": self.settled, "connections": self.connections}
        if not brief:
            figures["tokens"] = self.tokens
            figures["unregistered"] = sorted(self.unregistered)
        return figures


class Connection(asyncio.Protocol):
    """One client connection: requests parsed as they come, answered in their order."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.buffer = bytearray()
        self.waiting: collections.deque[list[bytes | None]] = collections.deque()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.responder.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).lower()
            length = _header(head, b"content-length")
            total = end + 4 + (int(length) if length else 0)
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4:total])
            del self.buffer[:total]
            self.request(head, body)

    def request(self, head: bytes, body: bytes) -> None:
        method, path, _ = head[:head.find(b"\r\n")].split(b" ", 2)
        slot: list[bytes | None] = [None]
        self.waiting.append(slot)
        if method == b"post" and path.endswith(_SEND_PATH):
            answer = self.responder.send(path, _header(head, b"authorization"), body)
            asyncio.get_running_loop().call_later(self.responder.latency_s, self.answer,
                                                  slot, answer)
            return
        if method == b"post" and path == b"/token":
            answer = self.responder.token()
        elif method == b"get" and path.startswith(b"/stats"):
            answer = response(200, _encode(self.responder.stats(brief=b"brief" in path)))
        else:
            answer = response(404, _error(404, "NOT_FOUND"))
        self.answer(slot, answer)

    def answer(self, slot: list[bytes | None], answer: bytes) -> None:
        slot[0] = answer
        while self.waiting and self.waiting[0][0] is not None:
            ready = self.waiting.popleft()[0]
            if self.transport is not None and ready is not None:
                self.transport.write(ready)


def _header(head: bytes, name: bytes) -> bytes:
    """A header's value in a lower-cased request head (b"" when absent)."""
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return b""
    start += len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start:end if end >= 0 else len(head)].strip()


def service_account(base_url: str, project_id: str = "muster-bench") -> dict[str, str]:
    """A service-account credential with a fresh RSA key, its tokens from `base_url`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": project_id, "private_key_id": "bench-1",
            "private_key": pem, "client_id": "1", "token_uri": f"{base_url}/token",
            "client_email": f"bench@{project_id}.iam.gserviceaccount.com"}


async def serve(args: argparse.Namespace) -> None:
    responder = Responder(args.latency_ms / 1000, args.error_rate, args.unregistered_rate,
                          args.seed)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(responder), "127.0.0.1", args.port,
                                      backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    print(_encode(responder.stats()).decode(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share answered 503")
    parser.add_argument("--unregistered-rate", type=float, default=0.0,
                        help="share of device tokens answered 404 UNREGISTERED")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-uvloop", action="store_true", help="plain asyncio's loop")
    args = parser.parse_args()
    run: Any = asyncio.run
    if not args.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop
            run = uvloop.run
    run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
