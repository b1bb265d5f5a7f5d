"""HTTP routes grouped by resource, under one convention: each resource's Router carries
its prefix (/schools, /events, /assists, /districts, /rule-packs, /me; /v1/auth,
/v1/webhooks, /v1/links and /v1/watch outside the signed-in /v1 router) and its handlers'
paths are relative to it. Routes may import api.http, api.usecases, api.rendering, db,
domain and notifications; app.py mounts `V1` under /v1 and `TOP` at the root.
"""

from litestar.types import ControllerRouterHandler

from api.http.metrics import scrape
from api.routes import (
    assists,
    auth,
    districts,
    events,
    health,
    links,
    me,
    reunifications,
    rule_packs,
    schools,
    watch,
    webhooks,
)

V1: list[ControllerRouterHandler] = [me.router, schools.router, events.router,
                                     districts.router, rule_packs.router, assists.router,
                                     reunifications.router]
TOP: list[ControllerRouterHandler] = [health.health, health.ready, scrape, auth.router,
                                      webhooks.router, links.router, watch.router]
