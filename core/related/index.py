"""The similarity index, kept on write: each concern's keys (core.related.sketch) written with it, and a lookup
that reads only the keys' newest concerns in the scope's tenant.

A new concern's keys are written once it has committed, by the fan-out of the event log (`follow`, within seconds;
at once on SQLite), in one statement for all the concerns of a batch: filing, the busiest write, neither computes
nor writes them. A concern is therefore found by others' lookups a few seconds after its filing. A lookup is one statement of `sketch.BANDS` index ranges, each capped
at `ranking.PER_KEY` rows, so it costs the same in a community of a hundred concerns or of a million."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Row, delete, exists, func, insert, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import Concern
from core.db import TenantContext, table_of
from core.events import WorkflowEvent
from core.related import ranking, sketch
from core.related.concepts import objects
from core.related.models import ConcernBand
from core.related.text import normalise, words

_BAND = table_of(ConcernBand)
CHUNK = 400


def keys_of(title: str, description: str) -> list[int]:
    """A concern's index keys, from its title and description."""
    text = normalise(f"{title} {description}")
    return sketch.keys(words(text, normalised=True).grams, objects(text))


async def follow(session: AsyncSession, ctx: TenantContext, events: Sequence[WorkflowEvent]) -> int:
    """Index the concerns of the scope's tenant that `events` made (a concern's first event has no `from_state`),
    from the fan-out of the event log once they committed; how many. One already indexed (by `reindex`, which may
    run meanwhile) is left as it is."""
    made = {event.subject_id for event in events if event.subject_kind == "concern" and event.from_state is None}
    if not made:
        return 0
    rows = (await session.execute(select(Concern.id, Concern.title, Concern.description, Concern.created_at)
                                  .where(Concern.id.in_(made), _unindexed()))).all()
    await write(session, ctx, _keyed(rows))
    return len(rows)


async def write(session: AsyncSession, ctx: TenantContext,
                concerns: Sequence[tuple[uuid.UUID, datetime.datetime, list[int]]]) -> None:
    """Index concerns of the scope's tenant (each its id, filing time and keys) in one statement."""
    values = [{"tenant_id": ctx.tenant_id, "key": key, "filed_at": filed_at, "concern_id": concern_id}
              for concern_id, filed_at, keys in concerns for key in keys]
    if values:
        await session.execute(insert(_BAND), values)


def _keyed(rows: Sequence[Row[uuid.UUID, str, str, datetime.datetime]],
           ) -> list[tuple[uuid.UUID, datetime.datetime, list[int]]]:
    """Rows of a concern's id, title, description and filing time as what `write` takes."""
    return [(concern_id, filed_at, keys_of(title, description)) for concern_id, title, description, filed_at in rows]


def _unindexed() -> Any:
    """Concerns with no keys yet, but for those withdrawn: their filer took them back from everyone's lookups."""
    return ~exists().where(ConcernBand.tenant_id == Concern.tenant_id, ConcernBand.concern_id == Concern.id) & (
        Concern.status != "withdrawn")


async def forget(session: AsyncSession, ctx: TenantContext, concern_id: uuid.UUID, keys: list[int]) -> None:
    """Take a concern out of the index (its text changed: it is written again under its new keys)."""
    if keys:
        await session.execute(delete(ConcernBand).where(ConcernBand.tenant_id == ctx.tenant_id,
                                                        ConcernBand.key.in_(keys), ConcernBand.concern_id == concern_id))


async def candidates(session: AsyncSession, ctx: TenantContext, keys: list[int], since: datetime.datetime,
                     limit: int = ranking.CANDIDATES) -> list[uuid.UUID]:
    """The concerns of the scope's tenant filed since `since` sharing the most of `keys`, the most first."""
    newest = await newest_by_key(session, ctx, set(keys), since)
    return ranking.candidates([concern for key in keys for concern in newest.get(key, ())], limit)


async def newest_by_key(session: AsyncSession, ctx: TenantContext, keys: set[int],
                        since: datetime.datetime) -> dict[int, list[uuid.UUID]]:
    """Each key's newest concerns (at most `ranking.PER_KEY`) filed since `since`, for one lookup or a whole inbox
    page: on PostgreSQL one LATERAL range per key, planned once (a UNION of a subquery per key is planned, Row-Level
    Security and all, once per key, which cost more than running it); on SQLite, which has no LATERAL, a UNION of
    the ranges per `CHUNK` keys (it takes at most 500 parts in one)."""
    found: dict[int, list[uuid.UUID]] = {}
    if not keys:
        return found
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        key = func.unnest(literal(sorted(keys), ARRAY(BigInteger))).table_valued("key").render_derived(name="k")
        newest = (select(ConcernBand.concern_id)
                  .where(ConcernBand.tenant_id == ctx.tenant_id, ConcernBand.key == key.c.key,
                         ConcernBand.filed_at >= since)
                  .order_by(ConcernBand.filed_at.desc()).limit(ranking.PER_KEY).lateral("newest"))
        for key_value, concern_id in await session.execute(
                select(key.c.key, newest.c.concern_id).select_from(key).join(newest, true())):
            found.setdefault(key_value, []).append(concern_id)
        return found
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        ranges = [select(ConcernBand.key, ConcernBand.concern_id)
                  .where(ConcernBand.tenant_id == ctx.tenant_id, ConcernBand.key == literal(key, BigInteger),
                         ConcernBand.filed_at >= since)
                  .order_by(ConcernBand.filed_at.desc()).limit(ranking.PER_KEY).subquery().select()
                  for key in ordered[start:start + CHUNK]]
        for key, concern_id in await session.execute(union_all(*ranges)):
            found.setdefault(key, []).append(concern_id)
    return found


async def reindex(session: AsyncSession, ctx: TenantContext, batch: int = 500) -> int:
    """Index the scope's tenant's concerns that have no keys yet (filed before the index existed); how many."""
    done = 0
    while rows := (await session.execute(select(Concern.id, Concern.title, Concern.description, Concern.created_at)
                                         .where(_unindexed()).order_by(Concern.id).limit(batch))).all():
        keyed = _keyed(rows)
        await write(session, ctx, keyed)
        done += len(rows)
        if not any(keys for _, _, keys in keyed):
            break  # nothing comparable in any of them (no text to key): they stay unindexed
    return done
