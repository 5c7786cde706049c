"""The index's lookup (core.related.index.candidates) on both databases: the concerns sharing the most keys first,
only those filed since the window began, only each key's newest, and only the scope's tenant's — whichever query
the database runs (a LATERAL range per key on PostgreSQL, a UNION of ranges on SQLite)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from litestar import Litestar

from core.related import index, ranking
from core.tenancy.scope import tenant_session

pytestmark = pytest.mark.usefixtures("world")
NOW = datetime.datetime(2026, 12, 10, 12, 0, tzinfo=datetime.UTC)
SINCE = NOW - datetime.timedelta(days=180)


async def indexed(app: Litestar, slug: str, user: str, rows: list[tuple[list[int], datetime.datetime]]) -> list[uuid.UUID]:
    async with tenant_session(app, slug, user) as scope:
        ids = [uuid.uuid4() for _ in rows]
        await index.write(scope.session, scope.ctx, [(concern, filed_at, keys)
                                                     for concern, (keys, filed_at) in zip(ids, rows, strict=True)])
    return ids


async def lookup(app: Litestar, keys: list[int], limit: int = ranking.CANDIDATES) -> list[uuid.UUID]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return await index.candidates(scope.session, scope.ctx, keys, SINCE, limit)


async def test_the_concerns_sharing_most_keys_come_first_within_the_window_and_the_tenant(app: Litestar) -> None:
    day = datetime.timedelta(days=1)
    three, two, one, old = await indexed(app, "comm-a", "cstaff", [
        ([1, 2, 3], NOW - 3 * day), ([1, 2, 7], NOW - 2 * day), ([3, 8], NOW - day), ([1, 2, 3], SINCE - day)])
    await indexed(app, "comm-b", "bstaff", [([1, 2, 3], NOW - day)])
    assert await lookup(app, [1, 2, 3]) == [three, two, one]
    assert await lookup(app, [8]) == [one]
    assert await lookup(app, [99]) == [] and await lookup(app, []) == []


async def test_a_common_key_gives_only_its_newest_concerns(app: Litestar) -> None:
    minute = datetime.timedelta(minutes=1)
    ids = await indexed(app, "comm-a", "cstaff", [([5], NOW - i * minute) for i in range(ranking.PER_KEY + 3)])
    found = await lookup(app, [5], limit=ranking.PER_KEY + 10)
    assert sorted(found) == sorted(ids[:ranking.PER_KEY])  # the three oldest are never read
