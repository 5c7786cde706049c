"""`yishi stats rebuild`: count the kept figures of every tenant (or one) again from the rows."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core.commands import run
from core.reporting import tallies
from core.tenancy.services import tenants_named


@click.group()
def stats() -> None:
    """The figures (统计), kept per tenant and day."""


@stats.command("rebuild")
@click.argument("tenant_slug", required=False)
def rebuild(tenant_slug: str | None) -> None:
    """Count every day of every tenant (or one) again from its concerns, topics, meetings and ratings, and the
    roll-ups of the tenants above: after an upgrade, an import, or to check that nothing drifted."""

    click.echo(f"已重新统计 {run(lambda session: recount(session, tenant_slug))} 个租户的数字（及其上级的汇总）")


async def recount(session: AsyncSession, tenant_slug: str | None = None) -> int:
    """`tallies.rebuild` of one tenant (by slug) or of all; how many were counted."""
    return await tallies.rebuild(session, await tenants_named(session, tenant_slug))
