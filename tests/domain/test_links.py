"""People's links to events: tokens that cannot be guessed, and how long they work."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from msgspec.structs import replace

from domain.errors import Expired
from domain.events import Event
from domain.links import (
    OFFLINE_REPLAY_WINDOW,
    TOKEN_LENGTH,
    Links,
    digest,
    open_until,
    require_open,
    well_formed,
)
from domain.srp import Action, EventStatus

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
EVENT, OTHER_EVENT = uuid.UUID(int=100), uuid.UUID(int=101)
PERSON, OTHER_PERSON = uuid.UUID(int=1), uuid.UUID(int=2)
LINKS = Links(secret="s" * 48, base_url="https://muster.example.org/")


def active_event() -> Event:
    return Event(id=EVENT, school_id=uuid.UUID(int=9), action=Action.LOCKDOWN, drill=True,
                 status=EventStatus.ACTIVE, message=None, directive="Locks, lights.",
                 location=None, hazard=None, strategy=None, started_at=NOW,
                 started_by=PERSON)


def test_a_token_is_22_base64url_characters_of_132_bits() -> None:
    token = LINKS.token(EVENT, PERSON)
    assert len(token) == TOKEN_LENGTH == 22 and well_formed(token)
    assert len(base64.urlsafe_b64decode(token + "==")) * 8 >= 128


def test_a_token_is_the_same_every_time_and_names_one_person_at_one_event() -> None:
    """The start's SMS and the action change's carry one link; any other person, event
    or secret gives another token."""
    token = LINKS.token(EVENT, PERSON)
    assert LINKS.token(EVENT, PERSON) == token
    others = {LINKS.token(OTHER_EVENT, PERSON), LINKS.token(EVENT, OTHER_PERSON),
              replace(LINKS, secret="t" * 48).token(EVENT, PERSON)}
    assert token not in others and len(others) == 3


def test_the_url_is_the_page_under_the_public_url() -> None:
    assert LINKS.url("A" * 22) == "https://muster.example.org/e/" + "A" * 22


def test_the_digest_is_sha256_of_the_token() -> None:
    assert len(digest("A" * 22)) == 32 and digest("A" * 22) != digest("B" * 22)


@pytest.mark.parametrize("token", ["", "A" * 21, "A" * 23, "A" * 21 + "=", "A" * 21 + "/",
                                   "A" * 21 + "é", "A" * 21 + "\x00"])
def test_anything_else_is_not_a_token(token: str) -> None:
    assert not well_formed(token)


def test_a_link_works_while_the_event_is_active() -> None:
    assert open_until(active_event()) is None
    require_open(active_event(), NOW + timedelta(days=30))


def test_a_link_works_for_the_replay_window_after_the_end_and_not_after() -> None:
    """Phones that reported offline send what they kept for OFFLINE_REPLAY_WINDOW (a day)."""
    ended_at = NOW + timedelta(minutes=20)
    ended = replace(active_event(), status=EventStatus.ALL_CLEAR, ended_at=ended_at)
    assert timedelta(hours=24) == OFFLINE_REPLAY_WINDOW
    assert open_until(ended) == ended_at + OFFLINE_REPLAY_WINDOW
    require_open(ended, ended_at + OFFLINE_REPLAY_WINDOW - timedelta(microseconds=1))
    with pytest.raises(Expired, match="expired"):
        require_open(ended, ended_at + OFFLINE_REPLAY_WINDOW)
