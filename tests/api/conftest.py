"""The app's routes over HTTP, served in-process by the test client on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from tests import layers
from tests.conftest import Clock, app_for

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from api.settings import Settings

pytest_collection_modifyitems = layers.marking("api", __file__)


@pytest.fixture
async def other_server(client: AsyncTestClient, database_url: str, settings: Settings,
                       clock: Clock) -> AsyncIterator[AsyncTestClient]:
    """A second server on the client's database, as another `muster serve` worker is:
    its own caches, its own copies of events."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app_for(settings, database_url, clock)) as other:
        yield other
