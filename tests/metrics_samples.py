"""Reading /metrics in tests: every sample, by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


async def scrape(client, **headers: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, by name and labels."""
    r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))
