"""Who may hold an event's live stream, and how many."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import SlowDown
from domain.roles import Role
from domain.streams import (
    MAX_STREAMS_PER_PERSON,
    StreamEnd,
    refuse_another_stream,
    why_stream_ends,
)

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
SCHOOL = uuid.uuid4()


def test_up_to_the_bound_a_person_may_open_another_stream():
    for open_now in range(MAX_STREAMS_PER_PERSON):
        refuse_another_stream(open_now)


def test_past_the_bound_it_is_slow_down_with_a_retry_after():
    with pytest.raises(SlowDown) as refused:
        refuse_another_stream(MAX_STREAMS_PER_PERSON)
    assert refused.value.retry_after_s > 0


def test_a_member_with_a_live_token_keeps_reading():
    assert why_stream_ends(NOW, NOW + timedelta(minutes=5), {SCHOOL: Role.TEACHER},
                           SCHOOL) is None


@pytest.mark.parametrize(("token_left", "roles", "why"), [
    (timedelta(0), {SCHOOL: Role.PRINCIPAL}, StreamEnd.TOKEN_EXPIRED),
    (timedelta(seconds=-1), None, StreamEnd.TOKEN_EXPIRED),  # the token says it first
    (timedelta(minutes=5), None, StreamEnd.SIGNED_OUT),
    (timedelta(minutes=5), {}, StreamEnd.ACCESS_ENDED),
    (timedelta(minutes=5), {uuid.uuid4(): Role.PRINCIPAL}, StreamEnd.ACCESS_ENDED),
])
def test_the_stream_ends_when_access_does(token_left, roles, why):
    assert why_stream_ends(NOW, NOW + token_left, roles, SCHOOL) is why
