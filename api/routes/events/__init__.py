"""Everything under /events: an event's life, check-ins, timeline, live stream (with the
replay pages its streams share), deliveries, drill reports, updates and staff reporting
themselves; this package builds the one
"/events" router from them.
"""

from litestar import Router

from api.routes.events import (
    checkins,
    deliveries,
    lifecycle,
    reports,
    reunification,
    roll_call,
    staff_status,
    stream,
    timeline,
    updates,
)

router = Router("/events", route_handlers=[
    lifecycle.router, checkins.router, timeline.router, stream.router, deliveries.router,
    reports.router, updates.router, staff_status.router, roll_call.router,
    reunification.router])
