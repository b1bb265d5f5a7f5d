"""The pages' static files, fingerprinted: `/static/muster.3f2a1b9c.css` names one version
of one file, so a browser may keep it for a year and a new release is a new name.

Files are read once, when the app is built, and served gzipped to browsers that accept it:
a phone on a slow connection downloads each asset once, and small.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from pathlib import Path
from typing import NamedTuple

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

FOLDER = Path(__file__).parent / "static"
_YEAR = "public, max-age=31536000, immutable"


class Asset(NamedTuple):
    body: bytes
    gzipped: bytes
    media_type: str


def fingerprinted(name: str, body: bytes) -> str:
    """`muster.css` -> `muster.<first 8 hex of its SHA-256>.css`."""
    stem, dot, suffix = name.partition(".")
    return f"{stem}.{hashlib.sha256(body).hexdigest()[:8]}{dot}{suffix}"


class Assets:
    """Every file under static/, by its fingerprinted name."""

    def __init__(self, folder: Path = FOLDER) -> None:
        self._urls: dict[str, str] = {}
        self._files: dict[str, Asset] = {}
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            body = path.read_bytes()
            served = fingerprinted(name, body)
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._urls[name] = f"/static/{served}"
            self._files[served] = Asset(body, gzip.compress(body, 9, mtime=0), media_type)

    def url(self, name: str) -> str:
        """The URL of static/`name` as served now (a template's `asset('muster.css')`)."""
        return self._urls[name]

    def get(self, served: str) -> Asset | None:
        return self._files.get(served)


@get("/static/{served:path}", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def static_file(request: Request, served: FromPath[str]) -> Response[bytes]:
    """One fingerprinted file; an unknown name (an old release's, say) is a 404."""
    asset = request.app.state.assets.get(served.lstrip("/"))
    if asset is None:
        raise NotFoundException(f"no static file {served}")
    headers = {"Cache-Control": _YEAR, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(asset.gzipped, media_type=asset.media_type,
                        headers=headers | {"Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)
