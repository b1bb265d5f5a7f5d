"""A TCP relay to the database whose links a test can cut, freeze or refuse: a network
failure or a database restart, for code that runs in the test's own process."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class Proxy:
    """A TCP relay to the database whose links a test can cut, freeze or refuse, as networks do."""

    def __init__(self, dsn: str) -> None:
        url = urlsplit(dsn)
        query = dict(parse_qsl(url.query))
        self._host = query.pop("host", url.hostname or "localhost")
        self._port = int(query.pop("port", url.port or 5432))
        userinfo = url.netloc.rpartition("@")[0]
        self._dsn_parts = (url.scheme, userinfo + "@" if userinfo else "", url.path,
                           urlencode(query))
        self._links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter, asyncio.Event]] = []
        self._pipes: set[asyncio.Task[None]] = set()
        self.refusing = False
        self.refused = 0

    async def __aenter__(self) -> str:
        """Start relaying; return a DSN that goes through the proxy."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        scheme, userinfo, path, query = self._dsn_parts
        port = self._server.sockets[0].getsockname()[1]
        return urlunsplit((scheme, f"{userinfo}127.0.0.1:{port}", path, query, ""))

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self.cut()

    def cut(self) -> None:
        """Close every current link, as a server restart does."""
        for client, server, _ in self._links:
            client.close()
            server.close()

    def freeze(self) -> None:
        """Stop forwarding on every current link without closing it (a half-open link)."""
        for _, _, flowing in self._links:
            flowing.clear()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.refusing:
            self.refused += 1
            client_w.close()
            return
        if self._host.startswith("/"):
            server_r, server_w = await asyncio.open_unix_connection(
                f"{self._host}/.s.PGSQL.{self._port}")
        else:
            server_r, server_w = await asyncio.open_connection(self._host, self._port)
        flowing = asyncio.Event()
        flowing.set()
        self._links.append((client_w, server_w, flowing))
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            self._pipes.add(asyncio.create_task(self._pipe(reader, writer, flowing)))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    flowing: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()
