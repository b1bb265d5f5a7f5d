"""Framework-free work behind the routes: a use case owns a request's work (its reads,
decisions and writes) through a unit of work, and is called by routes and by the CLI. No
Litestar imports here, except a type-only one for the application state; it may import
db, domain, notifications and api.http's plain types, never routes, the CLI or the app.
"""
