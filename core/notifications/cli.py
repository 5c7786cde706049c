"""`yishi worker` runs the job engine (or, with --check, probes it); `yishi notifications failed|retry` shows and
requeues the dead letters."""

from __future__ import annotations

import asyncio
import uuid

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.commands import run
from core.notifications.models import Notification
from core.notifications.outbox import requeue
from core.tenancy.models import Tenant
from core.tenancy.scope import within


@click.command()
@click.option("--concurrency", type=int, default=8, show_default=True, help="Jobs run at once in this process.")
@click.option("--name", default=None, help="This worker's name in the logs (default: the host's).")
@click.option("--check", is_flag=True, help="Only check that the job engine's database answers and holds its "
              "schema: exit 0 if so, 1 if not (a liveness/readiness probe).")
def worker(concurrency: int, name: str | None, check: bool) -> None:
    """Deliver notifications and run the periodic jobs, until stopped (SIGTERM finishes the jobs at hand).
    Run as many as needed: each job runs once, whichever worker takes it."""
    if check:
        raise SystemExit(_check())
    from core.app import create_app
    from core.notifications.jobs import run_worker

    app = create_app()

    async def main() -> None:
        engine = app.state.jobs
        try:
            async with engine.open_async():
                await run_worker(app.state, engine, wait=True, concurrency=concurrency, name=name, own_process=True)
        finally:
            await app.state.engine.dispose()

    asyncio.run(main())


CHECK_TIMEOUT = 5.0  # seconds; below the probes' timeoutSeconds, so a hung database fails the probe with a reason


def _check() -> int:
    """0 when the job engine's database is reachable and its schema (procrastinate_jobs) is there, 1 otherwise.
    Builds the job engine alone, not the app: a probe runs every few seconds and must stay cheap."""
    from core.notifications.jobs import build
    from core.settings import get_settings

    async def probe() -> bool:
        engine = build(get_settings())
        async with engine.open_async():
            return await engine.check_connection_async()

    try:
        present = asyncio.run(asyncio.wait_for(probe(), CHECK_TIMEOUT))
    except Exception as failed:  # unreachable, refused, timed out: all one answer to a probe
        click.echo(f"job engine unreachable: {type(failed).__name__}: {failed}", err=True)
        return 1
    if not present:
        click.echo("job engine's schema is missing (run `yishi migrate`)", err=True)
        return 1
    click.echo("job engine ok")
    return 0


@click.group()
def notifications() -> None:
    """Notifications that could not be delivered (失败的通知)."""


async def _failed(session: AsyncSession, slug: str | None) -> list[tuple[Tenant, Notification]]:
    tenants = (await session.scalars(select(Tenant).where(Tenant.slug == slug) if slug else
                                     select(Tenant).order_by(Tenant.path))).all()
    found: list[tuple[Tenant, Notification]] = []
    for tenant in tenants:
        async with within(session, tenant):
            found.extend((tenant, row) for row in (await session.scalars(
                select(Notification).where(Notification.status == "failed").order_by(Notification.created_at))).all())
    return found


@notifications.command("failed")
@click.option("--tenant", "slug", default=None, help="Only this tenant's.")
def notifications_failed(slug: str | None) -> None:
    """List the notifications given up after their retries: id, tenant, channel, kind, attempts, last error."""
    rows = run(lambda session: _failed(session, slug))
    if not rows:
        click.echo("没有失败的通知")
    for tenant, row in rows:
        click.echo(f"{row.id}  {tenant.slug}  {row.channel}  {row.kind}  {row.attempts}次  {row.last_error or ''}")


@notifications.command("retry")
@click.argument("ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every failed notification (of --tenant, if given).")
@click.option("--tenant", "slug", default=None)
def notifications_retry(ids: tuple[str, ...], every: bool, slug: str | None) -> None:
    """Queue failed notifications again, by id or --all; a worker delivers them."""
    if not ids and not every:
        raise click.UsageError("give notification ids, or --all")
    try:
        wanted = {uuid.UUID(i) for i in ids}
    except ValueError as bad:
        raise click.UsageError(f"not a notification id: {bad}") from bad

    async def retry(session: AsyncSession) -> int:
        count = 0
        for tenant, row in await _failed(session, slug):
            if every or row.id in wanted:
                async with within(session, tenant):
                    await requeue(session, [row])
                count += 1
        return count

    click.echo(f"已重新排队 {run(retry)} 条通知")
