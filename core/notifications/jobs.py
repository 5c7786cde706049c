"""The job engine: procrastinate, on PostgreSQL (its queue in our database, workers in `yishi worker`), or in
memory inside the app's own process on SQLite (`make run`); the same tasks either way.

Why procrastinate: PostgreSQL-native and async, with retries and backoff, per-job locks (one delivery of a
notification at a time), periodic tasks deferred once per period across every worker, and worker heartbeats
that let a survivor retry the jobs of a worker killed mid-run. Its documented SQL function defers a job inside
our own transaction, so a notification and its delivery job commit together, or neither does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import procrastinate
from procrastinate import testing
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.notifications.channels import DeliveryError
from core.notifications.delivery import MAX_ATTEMPTS, Deliverer, channels
from core.notifications.outbox import DELIVER_TASK, FAN_OUT_KEY, PENDING_KEY, QUEUE
from core.settings import Settings

log = logging.getLogger("yishi.jobs")
JOBS_KEY = "yishi.jobs"  # session.info: this process's job engine, when its queue lives in memory
CONTEXT_KEY = "yishi"  # a job's additional context: the Deliverer (and through it the app's state)
FAN_OUT_TASK = "yishi:notifications.fan_out"
# Every five seconds (procrastinate's optional sixth field is the second): staff hear of a new concern within a
# few seconds of its filing, and a run that finds no tenant behind costs one query per root of the tenant tree.
FAN_OUT_CRON = "* * * * * */5"

def libpq(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (procrastinate speaks psycopg, the app asyncpg)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def build(settings: Settings) -> procrastinate.App:
    """This process's job engine: PostgreSQL's queue, or an in-memory one on SQLite."""
    connector: Any = (procrastinate.PsycopgConnector(conninfo=libpq(settings.database_url), min_size=1, max_size=4)
                      if settings.is_postgres else testing.InMemoryConnector())
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # not a line per job deferred and run
    app = procrastinate.App(connector=connector)
    # Registered on this engine alone (a module-level blueprint would bind its tasks to the last app built).
    app.task(name=DELIVER_TASK, queue=QUEUE, pass_context=True, retry=procrastinate.RetryStrategy(
        max_attempts=MAX_ATTEMPTS, exponential_wait=2, retry_exceptions={DeliveryError}))(deliver)
    app.periodic(cron=FAN_OUT_CRON)(app.task(name=FAN_OUT_TASK, queue=QUEUE, pass_context=True,
                                             queueing_lock="notifications.fan_out")(fan_out))
    app.periodic(cron="* * * * *")(app.task(name="yishi:notifications.sweep", queue=QUEUE, pass_context=True,
                                            queueing_lock="notifications.sweep")(sweep))
    app.periodic(cron="5 * * * *")(app.task(name="yishi:notifications.reminders", queue=QUEUE, pass_context=True,
                                            queueing_lock="notifications.reminders")(reminders))
    app.periodic(cron="* * * * *")(app.task(name="yishi:timelimits.sweep", queue=QUEUE, pass_context=True,
                                            queueing_lock="timelimits.sweep")(timelimits_sweep))
    # 10:00 UTC is 18:00 in Beijing: the day's digest.
    app.periodic(cron="0 10 * * *")(app.task(name="yishi:notifications.digest", queue=QUEUE, pass_context=True,
                                             queueing_lock="notifications.digest")(digest))
    # 19:00 UTC is 03:00 in Beijing: phone numbers past their retention are erased.
    app.periodic(cron="0 19 * * *")(app.task(name="yishi:accounts.retention", queue=QUEUE, pass_context=True,
                                             queueing_lock="accounts.retention")(retention))
    return app


def _deliverer(context: procrastinate.JobContext) -> Deliverer:
    return context.additional_context[CONTEXT_KEY]


async def deliver(context: procrastinate.JobContext, notification_id: str, tenant_id: str) -> None:
    await _deliverer(context).deliver(uuid.UUID(tenant_id), uuid.UUID(notification_id))


async def fan_out(context: procrastinate.JobContext, timestamp: int | None = None,
                  tenant_id: str | None = None) -> None:
    """Every five seconds, and on SQLite after each commit that wrote events for them (`tenant_id`): a tenant's role
    holders are told of its events (`core.notifications.fanout`)."""
    from core.notifications.fanout import fan_out as fan_out_events

    result = await fan_out_events(_deliverer(context).state, [uuid.UUID(tenant_id)] if tenant_id else None)
    if result.failed_tenants:
        log.warning("fan-out: %d tenants failed (taken again by the next run)", result.failed_tenants)


async def sweep(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every minute: the jobs of workers that died mid-run are retried by one that lives."""
    manager = context.app.job_manager
    stalled = _deliverer(context).settings.jobs_stalled_seconds  # YISHI_JOBS_STALLED_SECONDS
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled):
        await manager.retry_job(job)


async def reminders(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every hour: tomorrow's meetings, action items due soon or overdue (each said once)."""
    from core.notifications import periodic

    await periodic.reminders(_deliverer(context).state, datetime.datetime.fromtimestamp(timestamp, datetime.UTC))


async def timelimits_sweep(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every minute: reminders, supervision notices and escalations of concerns running out of time."""
    from core.timelimits.sweep import sweep as sweep_time_limits

    result = await sweep_time_limits(_deliverer(context).state, datetime.datetime.fromtimestamp(timestamp, datetime.UTC))
    if result.acted or result.failed_tenants:
        log.info("time-limit sweep: %s (%d tenants failed)", result.done, result.failed_tenants)


async def digest(context: procrastinate.JobContext, timestamp: int) -> None:
    from core.notifications import periodic

    await periodic.digests(_deliverer(context).state, datetime.datetime.fromtimestamp(timestamp, datetime.UTC))


async def retention(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every night: residents' phone numbers past their tenant's retention are erased."""
    from core.accounts.retention import erase_old_phones

    await erase_old_phones(_deliverer(context).state, datetime.datetime.fromtimestamp(timestamp, datetime.UTC))


def worker_context(state: Any) -> dict[str, Any]:
    return {CONTEXT_KEY: Deliverer(state, channels(state.settings, state.plugins))}


async def run_worker(state: Any, engine: procrastinate.App, *, wait: bool = True, concurrency: int = 4,
                     name: str | None = None, own_process: bool = False) -> None:
    """Work the queue: for ever (`wait`), or until it is empty (tests). In its `own_process` (`yishi worker`)
    the worker takes SIGTERM itself, to finish the jobs at hand; inside the app's process the server does."""
    stalled = state.settings.jobs_stalled_seconds
    await engine.run_worker_async(queues=[QUEUE], wait=wait, concurrency=concurrency, name=name or "worker",
                                  additional_context=worker_context(state), install_signal_handlers=own_process,
                                  fetch_job_polling_interval=1.0 if not state.settings.is_postgres else 5.0,
                                  # Several heartbeats per stalled period: a live worker is never taken for dead.
                                  update_heartbeat_interval=min(10.0, stalled / 3), stalled_worker_timeout=stalled)


async def defer(engine: procrastinate.App, jobs: list[dict[str, Any]], fan_out_in: Iterable[uuid.UUID] = ()) -> None:
    for job in jobs:
        scheduled = job.get("scheduled_at")
        await engine.configure_task(DELIVER_TASK, lock=job["lock"], schedule_at=(
            datetime.datetime.fromisoformat(scheduled) if scheduled else None)).defer_async(**job["args"])
    for tenant_id in fan_out_in:
        # One waiting fan-out per tenant is enough: it reads every event committed by the time it runs.
        with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
            await engine.configure_task(FAN_OUT_TASK, queueing_lock=f"notifications.fan_out:{tenant_id}").defer_async(
                tenant_id=str(tenant_id))


_HANDED_OVER: set[asyncio.Task[None]] = set()  # held until done: the loop keeps only weak references


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    """On SQLite the committed notifications' jobs go to this process's in-memory queue, once committed, and so
    does a fan-out for each tenant whose new events tell its role holders (cheap: the queue is in memory)."""
    jobs, tenants = session.info.pop(PENDING_KEY, None) or [], session.info.pop(FAN_OUT_KEY, None) or set()
    engine = session.info.get(JOBS_KEY)
    if (jobs or tenants) and engine is not None:
        task = asyncio.get_running_loop().create_task(defer(engine, jobs, tenants))
        _HANDED_OVER.add(task)
        task.add_done_callback(_HANDED_OVER.discard)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(FAN_OUT_KEY, None)


async def requeue_pending(state: Any, engine: procrastinate.App) -> int:
    """In memory, a restart loses the queue: every notification still waiting is queued again."""
    from core.notifications.models import Notification
    from core.tenancy.models import Tenant
    from core.tenancy.scope import system_session

    queued = 0
    async with state.sessionmaker() as session:
        tenants = (await session.scalars(select(Tenant.id))).all()
    for tenant_id in tenants:
        async with system_session(state, tenant_id) as session:
            rows = (await session.execute(select(Notification.id, Notification.deliver_after).where(
                Notification.status.in_(("pending", "sending"))))).all()
        await defer(engine, [{"lock": str(row.id), "args": {"notification_id": str(row.id), "tenant_id": str(tenant_id)},
                              "scheduled_at": row.deliver_after.isoformat() if row.deliver_after else None}
                             for row in rows])
        queued += len(rows)
    return queued


@contextlib.asynccontextmanager
async def in_process(state: Any) -> AsyncIterator[procrastinate.App]:
    """The app's own worker (SQLite, `make run`): the queue in memory, pending notifications queued again at
    start, the worker stopped with the app."""
    engine = state.jobs
    async with engine.open_async():
        await requeue_pending(state, engine)
        worker = asyncio.create_task(run_worker(state, engine, wait=True, concurrency=2, name="in-process"))
        try:
            yield engine
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
