"""`yishi worker` as real processes on PostgreSQL's queue: one killed mid-delivery (kill -9) loses no message and
sends again at most the ones in flight (with their Message-ID); two at once send every message once, and fan a
new concern out to the staff once.

The receiver is a real SMTP server (aiosmtpd) that acknowledges each message ~50 ms after receiving it, so a
kill lands with messages received but not yet acknowledged: the case where a second copy is possible.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core import clock
from core.db import column_values
from core.notifications.models import Notification
from core.notifications.outbox import DELIVER_TASK, add
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session
from tests.conftest import PG_ADMIN_URL, PG_REACHABLE, Auth, DatabaseUnderTest
from tests.helpers import file
from tests.notifications.conftest import Inbox, _free_port, serving

# The queue and its workers are PostgreSQL's (on SQLite the job engine runs inside the app's own process).
pytestmark = pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)

N = 60
SMTP_DELAY = 0.05  # seconds between receiving a message and acknowledging it
STALLED_SECONDS = 3  # YISHI_JOBS_STALLED_SECONDS of the workers: the dead one's jobs are retried sooner than 30 s
# The minute sweep retries a dead worker's jobs: up to a minute to the next sweep, plus the stalled period.
DELIVERED_WITHIN = 150.0
YISHI = str(Path(sys.executable).parent / "yishi")


class SlowInbox(Inbox):
    """Keeps each message, then acknowledges it SMTP_DELAY later."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(SMTP_DELAY)
        return answer


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    """This module's SMTP server: the slow one (the app fixture and `inbox` pick it up)."""
    with serving(SlowInbox()) as served:
        yield served


@pytest_asyncio.fixture
async def queue(owner_engine: AsyncEngine) -> AsyncIterator[None]:
    """An empty job queue: no job or worker left by an earlier test is counted or run here."""
    async def empty() -> None:
        async with owner_engine.begin() as conn:
            await conn.execute(text("TRUNCATE procrastinate_events, procrastinate_periodic_defers, "
                                    "procrastinate_jobs, procrastinate_workers CASCADE"))
    await empty()
    yield
    await empty()


class Workers:
    """`yishi worker` subprocesses against the database under test, each killed at the end if still running."""

    def __init__(self, database: DatabaseUnderTest, smtp_url: str, logs: Path, owner: AsyncEngine) -> None:
        self.database, self.smtp_url, self.logs, self.owner = database, smtp_url, logs, owner
        self.processes: list[subprocess.Popen[bytes]] = []

    async def start(self, name: str) -> subprocess.Popen[bytes]:
        """A worker, once it has registered with the queue (it takes jobs from then on)."""
        registered = await self._registered()
        process = self._spawn(name)
        deadline = time.monotonic() + 30
        while await self._registered() == registered:
            assert process.poll() is None, f"{name} exited with {process.returncode}:\n{self.log(name)}"
            assert time.monotonic() < deadline, f"{name} did not register within 30 s:\n{self.log(name)}"
            await asyncio.sleep(0.1)
        return process

    def _spawn(self, name: str) -> subprocess.Popen[bytes]:
        settings = self.database.settings
        env = {key: value for key, value in os.environ.items() if not key.startswith("YISHI_")}
        env.update(YISHI_DATABASE_URL=settings.database_url, YISHI_SMTP_URL=self.smtp_url,
                   YISHI_MEDIA_DIR=settings.media_dir, YISHI_PASSWORD_HASH=settings.password_hash,
                   YISHI_JOBS_STALLED_SECONDS=str(STALLED_SECONDS))
        with open(self.logs / f"{name}.log", "wb") as log:
            process = subprocess.Popen([YISHI, "worker", "--concurrency", "8", "--name", name], env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    async def _registered(self) -> int:
        """The newest worker's id (a worker starting may prune a dead one: the count alone can stay put)."""
        async with self.owner.connect() as conn:
            return int((await conn.execute(text("SELECT coalesce(max(id), 0) FROM procrastinate_workers")))
                       .scalar_one())

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # finishes the jobs at hand
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest_asyncio.fixture
async def workers(database: DatabaseUnderTest, smtp: tuple[Inbox, str], tmp_path: Path, owner_engine: AsyncEngine,
                  queue: None) -> AsyncIterator[Workers]:
    running = Workers(database, smtp[1], tmp_path, owner_engine)
    try:
        yield running
    finally:
        running.stop()


async def _notify(app: Litestar, owner_engine: AsyncEngine, count: int) -> tuple[uuid.UUID, set[str]]:
    """`count` e-mails waiting for a worker (rows and jobs in one transaction, as every notification is written),
    spread over the users of comm-a, who are given addresses. Returns the tenant and the notification ids."""
    async with owner_engine.begin() as conn:
        await conn.execute(text("UPDATE user_account SET email = username || '@example.org'"))
    async with app.state.sessionmaker() as session:
        tenant = (await session.scalars(select(Tenant).where(Tenant.slug == "comm-a"))).one()
    async with owner_engine.connect() as conn:
        users = [row[0] for row in (await conn.execute(text(
            "SELECT DISTINCT user_id FROM role_assignment WHERE tenant_id = :t ORDER BY user_id"),
            {"t": tenant.id})).all()]
    now = clock.now()
    rows = [Notification(
        tenant_id=tenant.id, id=uuid.uuid4(), recipient_id=users[i % len(users)], channel="email",
        kind="action.assigned", dedup_key=f"worker-test-{i}", urgent=True, language="zh-CN",
        subject=f"工作进程测试 {i}", body=f"第 {i} 条", link=None, params={}, status="pending", deliver_after=None,
        attempts=0, created_at=now, updated_at=now) for i in range(count)]
    async with system_session(app, tenant.id) as session:
        await add(session, [column_values(row) for row in rows])
    return tenant.id, {str(row.id) for row in rows}


async def _statuses(app: Litestar, tenant_id: uuid.UUID, ids: set[str]) -> dict[str, str]:
    async with system_session(app, tenant_id) as session:
        rows = (await session.execute(select(Notification.id, Notification.status).where(
            Notification.id.in_([uuid.UUID(i) for i in ids])))).all()
    return {str(row.id): row.status for row in rows}


async def _all_sent(app: Litestar, tenant_id: uuid.UUID, ids: set[str], within: float, workers: Workers) -> None:
    deadline = time.monotonic() + within
    while True:
        statuses = await _statuses(app, tenant_id, ids)
        if all(status == "sent" for status in statuses.values()):
            return
        if time.monotonic() > deadline:
            counted = collections.Counter(statuses.values())
            logs = "\n".join(f"--- {p.name}\n{workers.log(p.stem)}" for p in workers.logs.glob("*.log"))
            pytest.fail(f"not every notification sent within {within:.0f} s: {dict(counted)}\n{logs}")
        await asyncio.sleep(0.25)


def _received(inbox: Inbox) -> collections.Counter[str]:
    """How many times each notification id arrived, by its Message-ID <id@yishi>."""
    ids: collections.Counter[str] = collections.Counter()
    for message in list(inbox.messages):
        message_id = str(message["Message-ID"]).strip()
        assert message_id.startswith("<") and message_id.endswith("@yishi>"), message_id
        ids[message_id[1:-len("@yishi>")]] += 1
    return ids


@pytest.mark.usefixtures("world")
async def test_a_worker_killed_mid_delivery_loses_nothing_and_resends_only_what_was_in_flight(
        app: Litestar, inbox: Inbox, workers: Workers, owner_engine: AsyncEngine) -> None:
    first = await workers.start("first")
    tenant_id, ids = await _notify(app, owner_engine, N)
    deadline = time.monotonic() + 30
    while len(inbox.messages) < N // 4:
        assert time.monotonic() < deadline, f"the first worker delivered {len(inbox.messages)} in 30 s"
        await asyncio.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    received_at_kill = len(inbox.messages)
    assert received_at_kill < N, "the kill came too late to land mid-run"
    # The dead worker's snapshot: what it had handed to the provider (`sending`) without hearing back.
    at_kill = await _statuses(app, tenant_id, ids)
    in_flight = {i for i, status in at_kill.items() if status == "sending"}

    await workers.start("second")
    await _all_sent(app, tenant_id, ids, DELIVERED_WITHIN, workers)
    workers.stop()  # the survivor finishes; anything it would still send has arrived once it has exited

    received = _received(inbox)
    assert set(received) == ids  # none lost, nothing foreign
    assert max(received.values()) <= 2
    duplicated = {i for i, times in received.items() if times > 1}
    # A second copy is only ever the retry of a message handed over before the kill and not acknowledged.
    assert duplicated <= in_flight, (duplicated - in_flight, in_flight)
    print(f"\n{N} notifications; killed after {received_at_kill} arrived, {len(in_flight)} in flight; "
          f"{len(received)} distinct received, {sum(received.values()) - len(received)} duplicated "
          f"({sorted(duplicated)})")


@pytest.mark.usefixtures("world")
async def test_two_workers_at_once_send_every_message_exactly_once(
        app: Litestar, inbox: Inbox, workers: Workers, owner_engine: AsyncEngine) -> None:
    await workers.start("one")
    await workers.start("two")
    tenant_id, ids = await _notify(app, owner_engine, N)
    await _all_sent(app, tenant_id, ids, 60, workers)
    await asyncio.sleep(1)  # anything sent a second time would arrive by now
    # Both took a share (a job keeps its worker's id while that worker lives).
    async with owner_engine.connect() as conn:
        shares = (await conn.execute(text(
            "SELECT worker_id, count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'succeeded'"
            " GROUP BY worker_id"), {"task": DELIVER_TASK})).all()
    assert len(shares) == 2 and None not in {worker for worker, _ in shares}, shares
    assert sum(count for _, count in shares) == N
    received = _received(inbox)
    assert len(inbox.messages) == N
    assert set(received) == ids and set(received.values()) == {1}


@pytest.mark.usefixtures("world")
async def test_two_workers_tell_staff_of_a_new_concern_once_within_seconds(
        app: Litestar, workers: Workers, client: AsyncClient, auth: Auth) -> None:
    """The fan-out as the real workers run it, every five seconds on PostgreSQL's queue: neither the filing nor
    the worker that does not hold the tenant's cursor writes the staff's notice."""
    await workers.start("one")
    await workers.start("two")
    filed = await file(client, await auth("resident"))
    async with app.state.sessionmaker() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == "comm-a"))
    assert tenant_id is not None
    deadline = time.monotonic() + 30
    while not (rows := await _staff_notices(app, tenant_id)):
        assert time.monotonic() < deadline, "\n".join(workers.log(name) for name in ("one", "two"))
        await asyncio.sleep(0.25)
    await asyncio.sleep(6)  # one more period: a second copy would be written by now
    rows = await _staff_notices(app, tenant_id)
    assert [(row.channel, row.status, row.params["reference"]) for row in rows] == [
        ("inbox", "digest", filed["reference"])]


async def _staff_notices(app: Litestar, tenant_id: uuid.UUID) -> list[Notification]:
    async with system_session(app, tenant_id) as session:
        return list((await session.scalars(select(Notification).where(Notification.kind == "concern.new"))).all())


def _check(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("YISHI_")}
    return subprocess.run([YISHI, "worker", "--check"], env={**env, "YISHI_DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=60, check=False)


def test_worker_check_tells_whether_the_queue_is_reachable_and_installed(database: DatabaseUnderTest) -> None:
    """`yishi worker --check`, the worker pods' probe."""
    ready = _check(database.settings.database_url)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    # The maintenance database answers but holds no job engine.
    bare = _check(make_url(PG_ADMIN_URL).render_as_string(hide_password=False))
    assert bare.returncode == 1 and "schema is missing" in bare.stderr, bare.stderr
    gone = _check(make_url(database.settings.database_url).set(port=_free_port()).render_as_string(
        hide_password=False))
    assert gone.returncode == 1 and "unreachable" in gone.stderr, gone.stderr
