"""`yishi related reindex`: index the concerns filed before the similarity index existed."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core.commands import run
from core.db import TenantContext
from core.related import index
from core.tenancy.scope import within
from core.tenancy.services import tenants_named


@click.group()
def related() -> None:
    """Related concerns (附议, 合并, 每月一题)."""


@related.command("reindex")
@click.argument("tenant_slug", required=False)
def reindex(tenant_slug: str | None) -> None:
    """Index the concerns of every tenant (or one) that have no keys yet; run again, it skips the indexed ones."""

    async def work(session: AsyncSession) -> list[tuple[str, int]]:
        tenants = await tenants_named(session, tenant_slug)
        done = []
        for tenant in tenants:
            async with within(session, tenant):  # one tenant at a time, through the app's walls
                done.append((tenant.slug, await index.reindex(session, TenantContext(tenant.id, tenant.path))))
        return done

    for slug, count in run(work):
        if count:
            click.echo(f"{slug}: 已为 {count} 条诉求建立相似索引")
    click.echo("相似诉求索引已是最新")
