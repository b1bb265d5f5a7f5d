"""Prometheus metrics of this process, served at GET /metrics (listed in the README).

Each app has a registry of its own, so each process (and each test's app) counts
for itself; Prometheus scrapes every process and sums. Figures about the shared
outbox are read from the database at scrape time, with one query whose cost grows
with the backlog, not with the table (db.metrics).

/metrics needs no access token. With MUSTER_METRICS_TOKEN set it needs that one
as a bearer token; without, keep it off the public internet (it shows, for one,
when a district is sending a wave of alerts).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from datetime import datetime

from litestar import Request, Response, get
from litestar.datastructures import State
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.http.problems import problem_response, problem_specs
from db import metrics as db_metrics
from domain.alerts import Channel

log = logging.getLogger("muster.metrics")

CHANNELS = tuple(Channel)  # reported even when nothing of theirs is queued
# Seconds: a check-in answers in a few milliseconds; a district-wide lockdown writes
# 20,000 outbox rows inside its request.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _outbox_families(queued: list[db_metrics.QueuedMessages],
                     now: datetime) -> list[Metric]:
    depth = GaugeMetricFamily("muster_outbox_messages",
                              "Messages queued in the outbox, due now or later.",
                              labels=["channel", "state"])
    lag = GaugeMetricFamily("muster_dispatcher_lag_seconds",
                            "Age of the oldest message due and not yet claimed.",
                            labels=["channel"])
    by_channel = dict.fromkeys(CHANNELS) | {q.channel: q for q in queued}
    for channel, q in by_channel.items():
        depth.add_metric([channel, "due"], q.due if q else 0)
        depth.add_metric([channel, "scheduled"], q.scheduled if q else 0)
        oldest = q.oldest_due if q else None
        lag.add_metric([channel], (now - oldest).total_seconds() if oldest else 0.0)
    return [depth, lag]


class _Scrape(Collector):
    """The process's metrics and the figures read for this scrape."""

    def __init__(self, registry: CollectorRegistry, read: list[Metric]) -> None:
        self._registry, self._read = registry, read

    def collect(self) -> Iterable[Metric]:
        yield from self._registry.collect()
        yield from self._read


class Metrics:
    """This process's metrics, and the hooks the app and the dispatcher report to."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Histogram(
            "muster_http_request_duration_seconds",
            "Seconds from a request's arrival to the start of its response.",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self._deliveries = Counter(
            "muster_deliveries", "Outcomes of sends to providers.",
            ["channel", "outcome", "reason"], registry=self.registry)
        self._receipts = Counter(
            "muster_delivery_receipts", "Providers' delivery receipts recorded.",
            ["channel", "outcome"], registry=self.registry)
        self.sse_clients = Gauge("muster_sse_clients", "Live timeline streams open.",
                                 registry=self.registry)
        for standard in (ProcessCollector, PlatformCollector, GCCollector):
            standard(registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).observe(seconds)

    def count_delivery(self, channel: str, outcome: str, reason: str | None) -> None:
        self._deliveries.labels(channel, outcome, reason or "").inc()

    def count_receipt(self, channel: str, outcome: str) -> None:
        self._receipts.labels(channel, outcome).inc()

    async def exposition(self, state: State, accept: str) -> tuple[bytes, str]:
        """The metrics in the format the scraper accepts, the outbox read now (left out
        when the database does not answer: a stale figure would hide an outage)."""
        now, read = state.clock(), []
        try:
            async with state.pool.acquire(timeout=2) as conn:
                read = _outbox_families(await db_metrics.queued_messages(conn, now), now)
        except Exception as exc:  # the rest of the metrics still answer
            log.warning("metrics: outbox not read: %s", type(exc).__name__)
        encode, content_type = choose_encoder(accept)
        return encode(_Scrape(self.registry, read)), content_type


def _allowed(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@get("/metrics", tags=["operations"], summary="Prometheus metrics of this process",
     description="Text exposition format (OpenMetrics if asked). Needs "
                 "`Authorization: Bearer <MUSTER_METRICS_TOKEN>` when that is set.",
     media_type="text/plain", responses=problem_specs(401))
async def scrape(request: Request, state: State) -> Response[bytes]:
    if not _allowed(request, state.settings.metrics_token):
        response = problem_response(request, 401, "a metrics token is required", "http")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    body, content_type = await state.metrics.exposition(state, request.headers.get("accept", ""))
    return Response(body, media_type=content_type)
