"""Everything under /districts: adding a school, and district admins' compliance, rule
pack and drill log across the district's schools (built on api/routes/schools/); this
package builds the one "/districts" router from them.
"""

from litestar import Router

from api.routes.districts import compliance, drill_log, roster, schools

router = Router("/districts", route_handlers=[
    compliance.router, drill_log.router, schools.router, roster.router])
