"""A real SMTP server (aiosmtpd) the app sends to, the local stand-ins of the SMS provider and of a webhook
receiver, the app configured for them, and the job engine's real worker."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import email.policy
import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from litestar import Litestar
from procrastinate.periodic import PeriodicRegistry

from core import clock
from core.app import create_app
from core.notifications.jobs import run_worker
from tests.conftest import Auth, DatabaseUnderTest, http_client
from tests.notifications.standins import SmsProvider, WebhookReceiver, sms_provider, webhook_receiver


@pytest.fixture(autouse=True)
def daytime() -> Iterator[clock.Stopped]:
    """10:00 in Beijing today: outside quiet hours (22:00–07:00), whenever the suite runs."""
    with clock.frozen(clock.day_start(clock.today()) + datetime.timedelta(hours=10)) as stopped:
        yield stopped


class Inbox:
    """What the SMTP server received, in order."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(inbox: Inbox) -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server on a free port handing what it receives to `inbox`, and the URL the app sends to."""
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{controller.port}?from=yishi@example.org"
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    with serving(Inbox()) as served:
        yield served


@pytest.fixture
def sms() -> Iterator[SmsProvider]:
    """Aliyun's SMS API, standing in on a local port: `sms.url` is the YISHI_SMS_URL that reaches it."""
    with sms_provider() as provider:
        yield provider


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A tenant's system receiving webhooks at `receiver.url`."""
    with webhook_receiver() as found:
        yield found


@pytest.fixture
def channel_settings() -> dict[str, Any]:
    """Settings of the channels besides e-mail; a module overrides it (`{"sms_url": sms.url}`)."""
    return {}


@pytest.fixture
def app(database: DatabaseUnderTest, smtp: tuple[Inbox, str], channel_settings: dict[str, Any]) -> Litestar:
    """The app, sending e-mail to the local SMTP server (and whatever `channel_settings` names)."""
    return create_app(dataclasses.replace(database.settings, smtp_url=smtp[1], **channel_settings))


@pytest.fixture
def inbox(smtp: tuple[Inbox, str]) -> Inbox:
    return smtp[0]


@pytest_asyncio.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as client:
        yield client


@pytest.fixture
def auth(client: httpx.AsyncClient) -> Auth:
    return Auth(client)


@pytest_asyncio.fixture
async def drain(app: Litestar) -> AsyncIterator[Any]:
    """`await drain()` runs the job engine's worker until the queue is empty (the real worker, on PostgreSQL
    against its real queue) — without its periodic schedule, which follows the wall clock: a worker started in the
    ten minutes after 10:00 UTC would otherwise send the day's digest in the middle of a test (periodic jobs are
    tested by calling them, tests/notifications/test_periodic.py)."""
    engine = app.state.jobs
    schedule, engine.periodic_registry = engine.periodic_registry, PeriodicRegistry()
    try:
        async with engine.open_async():
            async def run() -> None:
                await asyncio.sleep(0.05)  # SQLite: the commit's hand-over to the in-memory queue runs first
                await run_worker(app.state, engine, wait=False, concurrency=1)

            yield run
    finally:
        engine.periodic_registry = schedule
