"""How pages are rendered: Jinja2 with the `asset()` global, and the headers every page
carries.

Pages allow no inline script and nothing from another origin (the Content-Security-Policy
below), so data a script needs travels in a `<script type="application/json">` block, and
an injected `<script>` runs nowhere. No page sends a Referer: a check-in link's token is
in its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from api.pages.assets import Assets

TEMPLATES = Path(__file__).parent / "templates"
_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
           "frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": _POLICY, "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def template_config(assets: Assets) -> TemplateConfig[JinjaTemplateEngine]:
    """Templates from templates/, autoescaped; a name missing from a page's context is an
    error, not an empty string."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                              autoescape=select_autoescape(default=True), enable_async=False)
    environment.globals["asset"] = assets.url
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def page(name: str, *, cache: str = "no-store", status_code: int = 200,
         **context: Any) -> Template:
    """The page `name` (a file in templates/) with `context`; `cache` is its
    Cache-Control (pages show live data: by default nothing keeps them)."""
    return Template(template_name=name, context=context, status_code=status_code,
                    headers=PAGE_HEADERS | {"Cache-Control": cache})


def script_json(value: Any) -> str:
    """`value` as JSON to put, unescaped (`|safe`), inside a `<script type="application/
    json">` block: HTML is not decoded there, so `<`, `>` and `&` are written as JSON
    escapes and nothing in the data can end the block."""
    text = msgspec.json.encode(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
