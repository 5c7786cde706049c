"""The tests of related concerns see the index as `make run` keeps it: the fan-out of the event log, which writes
new concerns' keys once they commit, runs after every write a request makes (as the in-process worker does at once
on SQLite). A test marked `unfollowed` gets the bare client, to see what filing alone writes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from litestar import Litestar

from core.notifications.fanout import fan_out
from tests.conftest import http_client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unfollowed: the client does not run the fan-out after each write")


@pytest_asyncio.fixture
async def client(app: Litestar, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    async def followed(response: httpx.Response) -> None:
        if response.request.method != "GET" and response.status_code < 400:
            await fan_out(app.state)

    async with http_client(app) as client:
        if request.node.get_closest_marker("unfollowed") is None:
            client.event_hooks["response"].append(followed)
        yield client
