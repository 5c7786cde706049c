"""The similarity index, kept on write: each concern's keys (core.related.sketch) written with it, and a lookup
that reads only the keys' newest concerns in the scope's tenant.

A filing on PostgreSQL writes its keys inside its own one statement (`band_cte`); every other new concern writes
them with `write` in the same transaction. A lookup is one statement of `sketch.BANDS` index ranges, each capped
at `ranking.PER_KEY` rows, so it costs the same in a community of a hundred concerns or of a million."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, insert, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import TenantContext, table_of
from core.related import ranking, sketch
from core.related.models import ConcernBand
from core.related.text import shingles

_BAND = table_of(ConcernBand)


def keys_of(title: str, description: str) -> list[int]:
    """A concern's index keys, from its title and description."""
    return sketch.keys(shingles(f"{title} {description}"))


def band_cte(filed: Any, tenant_id: Any, filed_at: Any) -> Any:
    """The INSERT of the keys (bound as `band_keys`) of the concern `filed` (a CTE answering its `id`), for
    PostgreSQL's one-statement filing: no round trip of its own."""
    keys = func.unnest(bindparam("band_keys", type_=ARRAY(BigInteger)))
    rows = select(tenant_id, keys, filed_at, filed.c.id).select_from(filed)
    return insert(_BAND).from_select(["tenant_id", "key", "filed_at", "concern_id"], rows).cte("band")


async def write(session: AsyncSession, ctx: TenantContext, concern_id: uuid.UUID, filed_at: datetime.datetime,
                keys: list[int]) -> None:
    """Index a concern of the scope's tenant under `keys`."""
    if keys:
        await session.execute(insert(_BAND), [{"tenant_id": ctx.tenant_id, "key": key, "filed_at": filed_at,
                                               "concern_id": concern_id} for key in keys])


async def forget(session: AsyncSession, ctx: TenantContext, concern_id: uuid.UUID, keys: list[int]) -> None:
    """Take a concern out of the index (its text changed: it is written again under its new keys)."""
    if keys:
        await session.execute(delete(ConcernBand).where(ConcernBand.tenant_id == ctx.tenant_id,
                                                        ConcernBand.key.in_(keys), ConcernBand.concern_id == concern_id))


async def candidates(session: AsyncSession, ctx: TenantContext, keys: list[int], since: datetime.datetime,
                     limit: int = ranking.CANDIDATES) -> list[uuid.UUID]:
    """The concerns of the scope's tenant filed since `since` sharing the most of `keys`, the most first."""
    if not keys:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # One range per key through LATERAL: planned once, where a UNION of `sketch.BANDS` subqueries is planned
        # (Row-Level Security and all) once per key, which cost more than running it.
        key = func.unnest(literal(keys, ARRAY(BigInteger))).table_valued("key").render_derived(name="k")
        newest = (select(ConcernBand.concern_id)
                  .where(ConcernBand.tenant_id == ctx.tenant_id, ConcernBand.key == key.c.key,
                         ConcernBand.filed_at >= since)
                  .order_by(ConcernBand.filed_at.desc()).limit(ranking.PER_KEY).lateral("newest"))
        shared = (await session.scalars(select(newest.c.concern_id).select_from(key).join(newest, true()))).all()
        return ranking.candidates(shared, limit)
    ranges = [select(ConcernBand.concern_id.label("concern_id"))
              .where(ConcernBand.tenant_id == ctx.tenant_id, ConcernBand.key == literal(key, BigInteger),
                     ConcernBand.filed_at >= since)
              .order_by(ConcernBand.filed_at.desc()).limit(ranking.PER_KEY).subquery().select()
              for key in keys]
    shared = (await session.scalars(union_all(*ranges))).all()
    return ranking.candidates(shared, limit)
