"""Copying every tenant's photos from one photo store to another (`yishi media migrate`), keeping their keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import Photo
from core.errors import InvalidInput
from core.media import PhotoStore
from core.tenancy.models import Tenant
from core.tenancy.scope import within


@dataclass
class CopyReport:
    copied: int = 0
    already_there: int = 0
    missing: list[str] = field(default_factory=list)  # keys of rows whose file the source does not have


async def copy_photos(session: AsyncSession, source: PhotoStore, target: PhotoStore) -> CopyReport:
    """Copy the file of every Photo row, tenant by tenant, to `target` under the same key, so every row
    resolves there unchanged. Idempotent: an object `target` already holds is left as it is. Nothing is
    deleted from `source`."""
    if source.where == target.where:
        raise InvalidInput("源与目标是同一个照片存储（{where}）：请用 YISHI_MEDIA_URL 指定新的存储",
                           field="YISHI_MEDIA_URL", where=source.where)
    report = CopyReport()
    for tenant in (await session.scalars(select(Tenant).order_by(Tenant.path))).all():
        # As that tenant: on PostgreSQL, Row-Level Security shows each tenant's photos only to itself.
        async with within(session, tenant):
            keys = (await session.scalars(select(Photo.storage_key).order_by(Photo.storage_key))).all()
        for key in keys:
            if await target.exists(key):
                report.already_there += 1
            elif not await source.exists(key):
                report.missing.append(key)
            else:
                await target.put(key, await source.load(key))
                report.copied += 1
    return report
