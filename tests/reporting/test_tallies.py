"""The figures `/stats` reads are kept by the fan-out of the event log (`core.reporting.tallies`): over a varied
world, on several days and across months, they are what a full recount of the rows gives (`tallies`, the reference),
for each tenant's own figures and its subtree's; broken on purpose, `/stats` shows the break and `yishi stats
rebuild` mends it. On PostgreSQL the plans of what `/stats`, the district dashboard and its rates run read no
concern table (the rates but for their deadlines still ahead, by index)."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import event, select, update

from core import clock
from core.notifications.fanout import fan_out
from core.reporting.models import DayTally
from core.reporting.rates import ranking, tenant_rates
from core.reporting.schemas import Figures
from core.reporting.services import community_dashboard
from core.tenancy.models import Tenant
from core.tenancy.scope import tenant_session, within
from tests.conftest import PG_REACHABLE, Auth, http_client
from tests.helpers import BASE, WATER, accepted_concern, file, topic_at
from tests.reporting.recount import tallies, total

pytestmark = pytest.mark.usefixtures("world")

SLUGS = ("city-a", "district-a", "street-a", "comm-a", "comm-b")
ADMIN = {"city-a": "admin", "district-a": "dadmin", "street-a": "sstaff", "comm-a": "cstaff", "comm-b": "bstaff"}
PUBLIC = ("consultations_held", "matters_completed", "concerns_received", "median_days_to_completion",
          "average_rating")
DAYS_ON = (0, 25, 33, 45)  # the world's days, from the start: a month and more apart, then a week, then the last


def _periods() -> list[tuple[datetime.date, datetime.date]]:
    """Periods of whole months, edge days, single days and none of the world's days, up to the clock's today."""
    today = clock.today()
    on = [today - datetime.timedelta(days=DAYS_ON[-1] - n) for n in DAYS_ON]
    return [(datetime.date(today.year - 1, 1, 1), today), (on[0], today), (on[1], on[1]), (on[0], on[2]),
            (on[2].replace(day=1), today), (today, today), (on[0] - datetime.timedelta(days=9), on[0]),
            (today + datetime.timedelta(days=1), today + datetime.timedelta(days=40))]


async def _varied_world(client: AsyncClient, stopped: clock.Stopped) -> None:
    """Concerns on four days in two communities, accepted, resolved, rejected, withdrawn and merged; topics
    completed on different days, rated (a low rating opens a follow-up), one left with its action overdue."""
    start = stopped.at
    for n, days_on in enumerate(DAYS_ON):
        stopped.advance(start + datetime.timedelta(days=days_on, hours=3 * n) - stopped.at)
        auth = Auth(client)  # signed in anew: a token lasts less than the world's weeks
        resident, staff = await auth("resident"), await auth("cstaff")
        kept = [await file(client, resident) for _ in range(3)]
        resolved = await client.post(f"{BASE}/concerns/{kept[0]['id']}/triage", headers=staff,
                                     json={"action": "resolve_directly", "note": "已当场解决"})
        assert resolved.status_code == 200, resolved.text
        if n % 2 == 0:
            withdrawn = await client.post(f"{BASE}/concerns/{kept[1]['id']}/withdraw", headers=resident, json={})
            assert withdrawn.status_code == 200, withdrawn.text
        else:
            rejected = await client.post(f"{BASE}/concerns/{kept[1]['id']}/triage", headers=staff,
                                         json={"action": "reject", "reason": "不属于本社区"})
            assert rejected.status_code == 200, rejected.text
        survivor = await accepted_concern(client, auth)
        merged = await client.post(f"{BASE}/concerns/{survivor['id']}/merge", headers=staff,
                                   json={"duplicates": [kept[2]["id"]]})
        assert merged.status_code == 200, merged.text
        if n == 1:
            await topic_at(client, auth, "published")  # its action falls due in five days: overdue at the end
        elif n:  # a matter filed now, completed hours later, rated
            topic_id, ids = await topic_at(client, auth, "executing")
            stopped.advance(datetime.timedelta(hours=4 + n))
            done = await client.post(f"{BASE}/actions/{ids['action']}/complete", headers=await auth("wuye"))
            assert done.status_code == 200, done.text
            rated = await client.post(f"{BASE}/topics/{topic_id}/ratings", headers=resident,
                                      json={"score": n, "comment": "水压太低"})
            assert rated.status_code == 201, rated.text
        filed_b = await client.post("/api/v1/tenants/comm-b/concerns", json=WATER, headers=await auth("bstaff"))
        assert filed_b.status_code == 201, filed_b.text


async def _reference(app: Litestar, slug: str, date_from: datetime.date,
                     date_to: datetime.date) -> dict[str, Figures]:
    """A tenant's own figures and its subtree's counted from every row, as `/stats` counted them before."""
    async with tenant_session(app, slug, ADMIN[slug]) as scope:
        own = total(await tallies(scope.session, date_from, date_to, by_tenant=False))
        async with scope.subtree():
            rollup = total(await tallies(scope.session, date_from, date_to, by_tenant=False))
    return {"own": own, "rollup": rollup}


async def _differences(app: Litestar, client: AsyncClient, auth: Auth) -> list[Any]:
    wrong = []
    for slug in SLUGS:
        for date_from, date_to in _periods():
            answer = await client.get(f"/api/v1/tenants/{slug}/stats", headers=await auth(ADMIN[slug]),
                                      params={"from": date_from.isoformat(), "to": date_to.isoformat()})
            assert answer.status_code == 200, answer.text
            expected = await _reference(app, slug, date_from, date_to)
            for part in ("own", "rollup"):
                kept = Figures(**answer.json()[part])
                if kept != expected[part]:
                    wrong.append((slug, str(date_from), str(date_to), part, kept, expected[part]))
        for year in {clock.today().year - 1, clock.today().year}:  # a portal's year: its subtree's, as kept
            public = (await client.get(f"/api/v1/tenants/{slug}/public/stats", params={"year": year})).json()
            expected = (await _reference(app, slug, datetime.date(year, 1, 1), datetime.date(year, 12, 31)))["rollup"]
            if any(public[name] != getattr(expected, name) for name in PUBLIC):
                wrong.append((slug, str(year), "", "public", public, expected))
    return wrong


async def _break(app: Litestar, slug: str) -> None:
    """Figures that drift from the rows: every kept row of the tenant counts seven concerns too many."""
    async with app.state.sessionmaker() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None
        async with within(session, tenant):
            await session.execute(update(DayTally).where(DayTally.tenant_id == tenant.id)
                                  .values(concerns_received=DayTally.concerns_received + 7))
        await session.commit()


async def test_kept_figures_are_a_full_recount_and_rebuild_mends_them(
        app: Litestar, client: AsyncClient, yishi: Callable[..., Result]) -> None:
    with clock.frozen(clock.now()) as stopped:
        await _varied_world(client, stopped)
        await _compared(app, client, Auth(client), yishi)


async def _compared(app: Litestar, client: AsyncClient, auth: Auth, yishi: Callable[..., Result]) -> None:
    reference = await _reference(app, "district-a", *_periods()[0])
    assert reference["rollup"].concerns_received > 10 and reference["rollup"].matters_completed == 2
    assert reference["rollup"].median_days_to_completion is not None and reference["rollup"].follow_ups >= 1
    assert reference["rollup"].overdue_action_items == 1
    assert await _differences(app, client, auth) == []

    await _break(app, "comm-a")
    await _break(app, "district-a")
    wrong = {(slug, part) for slug, _, _, part, _, _ in await _differences(app, client, auth)}
    assert {("comm-a", "own"), ("district-a", "rollup")} <= wrong  # /stats reads the kept rows, not the concerns
    rebuilt = await asyncio.to_thread(yishi, "stats", "rebuild", "comm-a")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "已重新统计 1 个租户" in rebuilt.output
    assert await _differences(app, client, auth) == []

    for slug in SLUGS:
        await _break(app, slug)
    assert (await asyncio.to_thread(yishi, "stats", "rebuild")).exit_code == 0
    assert await _differences(app, client, auth) == []
    missing = await asyncio.to_thread(yishi, "stats", "rebuild", "no-such-place")
    assert missing.exit_code == 2 and "没有租户 no-such-place" in missing.output


@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)  # EXPLAIN is PostgreSQL's
@pytest.mark.parametrize("read", ["stats", "dashboard", "rates"])
async def test_a_districts_stats_and_dashboard_read_no_concern(app: Litestar, client: AsyncClient, database: Any,
                                                                read: str) -> None:
    """What `/stats`, the district dashboard's figures (its rows, totals, categories and months) and its rates and
    ranking run, explained by PostgreSQL as it ran: the kept rows, never a concern table, nor a topic's, a
    meeting's or a rating's — but for the rates' deadlines still ahead, read by an index on the deadline alone
    (explained with sequential scans off: on a table this small the planner would rather read it all)."""
    with clock.frozen(clock.now()) as stopped:
        await _varied_world(client, stopped)
    headers = await Auth(client)("dadmin")
    start, end = datetime.date(clock.today().year, 1, 1), clock.today() + datetime.timedelta(days=DAYS_ON[-1] + 1)
    year = {"from": str(start), "to": str(end)}
    rollup = (await client.get("/api/v1/tenants/district-a/stats", headers=headers, params=year)).json()["rollup"]
    assert rollup["concerns_received"] > 10
    ran: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "set_config" not in statement:
            ran.append((statement, parameters))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        if read == "stats":
            async with http_client(app) as bare:  # the request alone: no fan-out before it
                answer = await bare.get("/api/v1/tenants/district-a/stats", headers=headers, params=year)
            assert answer.status_code == 200 and answer.json()["rollup"] == rollup
        elif read == "dashboard":
            async with tenant_session(app, "district-a", "dadmin") as scope:
                board = await community_dashboard(scope, start, end)
            assert board.totals == Figures(**rollup)
            assert sum(count for _, count in board.categories) == rollup["concerns_received"]
            assert sum(count for _, count in board.months) == rollup["matters_completed"]
            assert sum(row.figures.concerns_received for row in board.rows) == rollup["concerns_received"]
        else:
            async with tenant_session(app, "district-a", "dadmin") as scope:
                month = clock.today().replace(day=1)
                assert (await tenant_rates(scope, month)).rollup.concerns_received > 0
                assert (await ranking(scope, month, 1)).ranked
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    scans: set[tuple[str, str | None]] = set()
    async with tenant_session(app, "district-a", "dadmin") as scope:  # the app's role, walled, as the district
        conn = await scope.session.connection()
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in ran:
            plan = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)).scalar()
            scans |= set(_scans(plan if isinstance(plan, list) else json.loads(plan)))
    relations = {relation for relation, _ in scans}
    assert "day_tally" in relations
    assert not relations & {"topic", "meeting", "rating", "concern_band"}, relations
    concern = {index for relation, index in scans if relation == "concern"}
    allowed = {"ix_concern_tenant_awaiting_response", "ix_concern_tenant_resolve_by"} if read == "rates" else set()
    assert concern <= allowed, concern


def _scans(plan: Any) -> list[tuple[str, str | None]]:
    """Each relation a plan reads, with the index it reads it by (None: the table itself)."""
    if isinstance(plan, list):
        return [scan for item in plan for scan in _scans(item)]
    if isinstance(plan, dict):
        found = []
        if plan.get("Node Type") == "Bitmap Heap Scan":  # the table, by the indexes its bitmap scans below read
            found = [(plan["Relation Name"], index) for index in _bitmap_indexes(plan["Plans"])]
        elif "Relation Name" in plan:
            found = [(plan["Relation Name"], plan.get("Index Name"))]
        return found + [scan for value in plan.values() for scan in _scans(value)]
    return []


def _bitmap_indexes(plan: Any) -> list[str]:
    if isinstance(plan, list):
        return [index for item in plan for index in _bitmap_indexes(item)]
    if isinstance(plan, dict):
        return ([plan["Index Name"]] if plan.get("Node Type") == "Bitmap Index Scan" else []) + \
            [index for value in plan.values() for index in _bitmap_indexes(value)]
    return []


async def test_two_communities_fanned_out_at_once_both_reach_their_district(
        app: Litestar, client: AsyncClient) -> None:
    """Their fan-outs write the same rows of the street, district and city at once: each adds its own change."""
    auth = Auth(client)
    for _ in range(3):
        assert (await client.post(f"{BASE}/concerns", json=WATER, headers=await auth("resident"))).status_code == 201
        assert (await client.post("/api/v1/tenants/comm-b/concerns", json=WATER,
                                  headers=await auth("bstaff"))).status_code == 201
    async with app.state.sessionmaker() as session:
        ids = (await session.scalars(select(Tenant.id).where(Tenant.slug.in_(("comm-a", "comm-b"))))).all()
    results = await asyncio.gather(*(fan_out(app.state, [tenant_id]) for tenant_id in ids))
    # Alike: each counts its filing day and the day its concerns fall due.
    assert [r.failed_tenants for r in results] == [0, 0]
    assert results[0].tallied_days == results[1].tallied_days >= 1
    async with http_client(app) as bare:  # no catching up before it: what the two fan-outs wrote
        district = (await bare.get("/api/v1/tenants/district-a/stats", headers=await auth("dadmin"))).json()
    assert district["rollup"]["concerns_received"] == 6
