"""Everything under /schools: a school and its rooms, staff, contacts, events, school
years, compliance, drill log, administration, requests for help and students, one module
each with its own tags; this package builds the one "/schools" router from them.
"""

from litestar import Router

from api.routes.schools import (
    admin,
    assists,
    compliance,
    contacts,
    drill_log,
    events,
    reunifications,
    rooms,
    roster,
    school_years,
    schools,
    staff,
    students,
)

router = Router("/schools", route_handlers=[
    schools.router, events.router, school_years.router, drill_log.router, compliance.router,
    admin.router, rooms.router, staff.router, contacts.router, assists.router,
    reunifications.router, roster.router, students.router])
