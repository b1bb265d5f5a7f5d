"""Framework-free work behind the routes: a use case owns a request's work (its reads,
decisions and writes) through a unit of work, and is called by routes and by the CLI. No
Litestar imports here, not even for types; it may import db, domain and notifications,
never api.http, routes, the CLI, rendering or the app (tests/source/test_layers.py).
"""
