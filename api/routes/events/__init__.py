"""Everything under /events: an event's life, check-ins, timeline, live stream (with the
replay pages its streams share), deliveries and drill reports; this package builds the one
"/events" router from them.
"""

from litestar import Router

from api.routes.events import checkins, deliveries, lifecycle, reports, stream, timeline

router = Router("/events", route_handlers=[
    lifecycle.router, checkins.router, timeline.router, stream.router, deliveries.router,
    reports.router])
