"""The HTTP edge's plumbing, no routes (but the /metrics scrape): dependencies, JWT
authentication, problem+json errors, strict request decoding, field types, pagination,
CSV downloads, the Idempotency-Key header, texting after an answer, the request log,
metrics and uvicorn's serving options. It may import litestar, settings, the use cases
(a request's unit of work, its caller), db and domain, never routes, the CLI or the app.
"""
