"""Every kind of timeline entry the schema admits can be streamed."""

from __future__ import annotations

import msgspec

from api.routes.events.replay import ReplayPages
from db import timeline
from domain.events import TimelineKind
from tests import factories
from tests.conftest import T0


async def test_every_kind_of_entry_streams_an_ack_as_delivery_news(db, pool):
    """Nothing writes an acknowledgement entry yet, but the schema admits one: a stream
    replaying it sends it, as it sends every other kind."""
    d = await factories.district(db)
    s = await factories.school(db, d)
    sro = await factories.person(db, d, s, "sro")
    event_id = await factories.lockdown(db, s, sro, T0)
    after = await db.fetchval("select last_seq from events where id = $1", event_id)
    for kind in TimelineKind:
        await timeline.append(db, event_id, T0, kind, sro, msgspec.json.encode({"kind": kind}))
    page = await ReplayPages().after(pool, event_id, after)
    assert page.size == len(TimelineKind)
    events = [line for line in page.chunk.split(b"\r\n") if line.startswith(b"event: ")]
    assert events[list(TimelineKind).index(TimelineKind.ACK)] == b"event: delivery"
    assert b'data: {"kind":"ack"}' in page.chunk
