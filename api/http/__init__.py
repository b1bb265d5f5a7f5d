"""The HTTP edge's plumbing, no routes (but the /metrics scrape): dependencies, JWT
authentication and the caller, problem+json errors, strict request decoding, field types,
pagination, CSV downloads, the request log, metrics and uvicorn's serving options. It may
import litestar, settings, db and domain, never routes, use cases, the CLI or the app.
"""
