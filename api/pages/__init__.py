"""Browser pages: server-rendered HTML (Jinja2) with small plain JavaScript, served by
Muster itself at the root (`/`, `/e/...`, `/w/...`, `/schools/...`, `/events/...`,
`/static/...`).

Pages call the same use cases as the API, and their scripts call the API itself (the
browser's session cookie authenticates them). Nothing here is in the OpenAPI document.
"""

from litestar import Router
from litestar.exceptions import NotAuthorizedException

from api.pages import assets, dashboard, home, links, reunification, schools, watch

PAGES = Router("/", route_handlers=[assets.static_file, home.sign_in, home.home,
                                    schools.school_page, dashboard.dashboard, links.link_page,
                                    links.link_worker, watch.watch_page,
                                    reunification.site, reunification.record],
               exception_handlers={NotAuthorizedException: home.to_sign_in})
