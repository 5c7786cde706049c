"""The similarity index on both databases: written for every new concern by the fan-out once it committed,
walled per tenant, capped per key, rebuilt by `yishi related reindex`; and the lookup over it."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable

import pytest
from click.testing import Result
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import delete, func, select

from core.concerns.models import Concern
from core.notifications.fanout import fan_out
from core.related import index, ranking
from core.related.models import ConcernBand
from core.related.services import RelatedService
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, file

pytestmark = pytest.mark.usefixtures("world")

ROOF = {"title": "楼顶建筑垃圾长期堆放，下雨天漏水", "category": "environment",
        "description": "楼顶上的建筑垃圾未及时清运，破坏了防水层，一到下雨天就外面下大雨，里面下小雨。"}


async def _keys(app: Litestar, slug: str, concern_id: str) -> list[int]:
    async with tenant_session(app, slug, "admin") as scope:
        return list((await scope.session.scalars(select(ConcernBand.key).where(
            ConcernBand.concern_id == concern_id).order_by(ConcernBand.key))).all())


@pytest.mark.unfollowed
async def test_the_fan_out_writes_a_filed_concerns_keys_once(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    # The first filing of a year takes the stepwise path, the second PostgreSQL's one statement: neither writes
    # keys; the fan-out after them writes each concern's, and a second run nothing more.
    filed = [await file(client, await auth("resident"), ROOF) for _ in range(2)]
    assert [await _keys(app, "comm-a", concern["id"]) for concern in filed] == [[], []]
    assert (await fan_out(app.state)).indexed == 2
    for concern in filed:
        assert await _keys(app, "comm-a", concern["id"]) == sorted(index.keys_of(ROOF["title"], ROOF["description"]))
    assert (await fan_out(app.state)).indexed == 0


async def test_a_paraphrase_finds_the_concern_and_another_problem_does_not(app: Litestar, client: AsyncClient,
                                                                           auth: Auth) -> None:
    roof = await file(client, await auth("resident"), ROOF)
    await file(client, await auth("resident"), {"title": "楼道灯坏了", "description": "2单元楼道的灯不亮，晚上上楼看不见"})
    async with tenant_session(app, "comm-a", "neighbour") as scope:
        found = await RelatedService(scope.session, scope).similar("楼顶垃圾漏水", "楼顶堆着垃圾，下雨天家里渗水")
    assert [str(s.concern.id) for s in found] == [roof["id"]]
    assert found[0].summary and "漏水" in found[0].summary


async def test_the_lookup_never_reaches_another_tenant(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await file(client, await auth("resident"), ROOF)  # comm-a
    async with tenant_session(app, "comm-b", "bstaff") as scope:
        assert await RelatedService(scope.session, scope).similar(ROOF["title"], ROOF["description"]) == []
        keys = index.keys_of(ROOF["title"], ROOF["description"])
        assert await index.candidates(scope.session, scope.ctx, keys, since=_long_ago()) == []


async def test_a_handled_concern_is_shown_but_not_joinable_and_a_rejected_one_not_at_all(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    roof = await file(client, await auth("resident"), ROOF)
    resolved = await client.post(f"{BASE}/concerns/{roof['id']}/triage", json={"action": "resolve_directly",
                                                                               "note": "已清运"},
                                 headers=await auth("cstaff"))
    assert resolved.status_code == 200, resolved.text
    async with tenant_session(app, "comm-a", "neighbour") as scope:
        [shown] = await RelatedService(scope.session, scope).similar(ROOF["title"], ROOF["description"])
        assert shown.status_name == "已直接办结" and not shown.joinable
        assert await RelatedService(scope.session, scope).like(shown.concern) == []  # staff: open ones only
    again = await file(client, await auth("resident"), ROOF)
    rejected = await client.post(f"{BASE}/concerns/{again['id']}/triage", json={"action": "reject", "reason": "重复"},
                                 headers=await auth("cstaff"))
    assert rejected.status_code == 200, rejected.text
    async with tenant_session(app, "comm-a", "neighbour") as scope:
        assert [s.concern.id for s in await RelatedService(scope.session, scope).similar(
            ROOF["title"], ROOF["description"])] == [shown.concern.id]


async def test_each_key_reads_only_its_newest_concerns(app: Litestar, client: AsyncClient, auth: Auth,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking, "PER_KEY", 2)
    filed = [await file(client, await auth("resident"), ROOF) for _ in range(4)]
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        found = await index.candidates(scope.session, scope.ctx, index.keys_of(ROOF["title"], ROOF["description"]),
                                       since=_long_ago())
    assert sorted(map(str, found)) == sorted(c["id"] for c in filed[-2:])


async def test_reindex_writes_what_is_missing_and_nothing_twice(app: Litestar, client: AsyncClient, auth: Auth,
                                                                yishi: Callable[..., Result]) -> None:
    concern = await file(client, await auth("resident"), ROOF)
    expected = await _keys(app, "comm-a", concern["id"])
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        await scope.session.execute(delete(ConcernBand).where(ConcernBand.concern_id == concern["id"]))
    result = await asyncio.to_thread(yishi, "related", "reindex")
    assert result.exit_code == 0, result.output
    assert "comm-a: 已为 1 条诉求建立相似索引" in result.output
    assert await _keys(app, "comm-a", concern["id"]) == expected
    again = await asyncio.to_thread(yishi, "related", "reindex", "comm-a")
    assert again.exit_code == 0 and "已为" not in again.output
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        total = await scope.session.scalar(select(func.count()).select_from(ConcernBand))
        concerns = await scope.session.scalar(select(func.count()).select_from(Concern))
    assert total == len(expected) * concerns
    assert (await asyncio.to_thread(yishi, "related", "reindex", "no-such-tenant")).exit_code == 2


def _long_ago() -> datetime.datetime:
    return datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
