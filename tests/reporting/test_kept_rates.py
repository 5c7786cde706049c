"""The rates are kept per day by the fan-out (`core.reporting.tallies`), less what is not yet due (counted live):
over a world driven through the API on many days — answered, rejected, withdrawn, paused and resumed, extended,
resolved, reopened by a revisit and resolved again, closed by its topic's completion — and again once its deadlines
pass with no event at all, every tenant's own and rolled-up rates, the ranking's rows and a portal's year are what
a full recount of the rows gives (`tests.reporting.recount.rate_tallies`); a change after `yishi stats rebuild`
still recounts the days it leaves (both databases)."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.notifications.fanout import fan_out
from core.reporting.cli import recount
from core.reporting.rates import month_end
from core.reporting.schemas import RateFigures
from core.tenancy.models import Tenant
from core.tenancy.scope import tenant_session
from tests.conftest import Auth, http_client
from tests.helpers import BASE, WATER, file, topic_at
from tests.reporting.recount import RateTally, rate_tallies

pytestmark = pytest.mark.usefixtures("world")

STAFF = {"comm-a": "cstaff", "comm-b": "bstaff", "street-a": "sstaff", "district-a": "dadmin"}
RANKING = ("street-a", "district-a")


class World:
    """The clock stopped and moved on by hand; each day's events fanned out before the next day's (each batch then
    touches its own days alone), and each day signed in anew (a token lasts less than the world's weeks)."""

    def __init__(self, app: Litestar, client: AsyncClient, stopped: clock.Stopped) -> None:
        self.app, self.client, self.stopped, self.start = app, client, stopped, stopped.at

    async def on_day(self, days: float) -> Auth:
        await fan_out(self.app.state)
        self.stopped.advance(self.start + datetime.timedelta(days=days) - self.stopped.at)
        return Auth(self.client)

    async def post(self, auth: Auth, user: str, path: str, body: dict[str, Any] | None = None,
                   status: int = 200) -> dict:
        answer = await self.client.post(path, json=body or {}, headers=await auth(user))
        assert answer.status_code == status, answer.text
        return answer.json()


async def _drive(app: Litestar, client: AsyncClient, stopped: clock.Stopped) -> dict[str, str]:
    """Concerns with every kind of clock on days 0 to 6, and one filed on day 20 still open; their ids by name."""
    world = World(app, client, stopped)
    auth = await world.on_day(0)
    resident = await auth("resident")
    ids = {name: (await file(client, resident))["id"] for name in ("resolved", "accepted", "waiting", "rejected",
                                                                    "withdrawn")}
    ids["b"] = (await world.post(auth, "bstaff", "/api/v1/tenants/comm-b/concerns", WATER, status=201))["id"]
    url = {name: f"{BASE}/concerns/{concern_id}" for name, concern_id in ids.items()}
    await world.post(auth, "cstaff", f"{url['resolved']}/triage", {"action": "resolve_directly", "note": "已当场解决"})
    await world.post(auth, "cstaff", f"{url['accepted']}/triage", {"action": "accept"})
    await world.post(auth, "cstaff", f"{url['rejected']}/triage", {"action": "reject", "reason": "不属于本社区"})
    await world.post(auth, "resident", f"{url['withdrawn']}/withdraw")
    await world.post(auth, "bstaff", f"/api/v1/tenants/comm-b/concerns/{ids['b']}/triage", {"action": "accept"})

    auth = await world.on_day(1.1)  # 未解决: reopened with a new clock, its closing and deadline days left behind
    await world.post(auth, "resident", f"{url['resolved']}/revisit", {"solved": False, "satisfaction": "unsatisfied"})
    await world.post(auth, "cstaff", f"{url['accepted']}/pause", {"reason": "waiting_resident"})

    auth = await world.on_day(3.2)  # resumed (its deadlines move on), then extended by the street
    await world.post(auth, "cstaff", f"{url['accepted']}/resume")
    asked = await world.post(auth, "cstaff", f"{url['accepted']}/extensions",
                             {"extra": "P3D", "reason": "需等待物业采购维修配件"}, status=201)
    await world.post(auth, "sstaff", f"/api/v1/tenants/street-a/extensions/{asked['id']}/decision", {"approve": True})
    await world.post(auth, "cstaff", f"{url['resolved']}/triage", {"action": "resolve_directly", "note": "已更换水泵"})

    auth = await world.on_day(6.3)
    await world.post(auth, "resident", f"{url['resolved']}/revisit", {"solved": True, "satisfaction": "satisfied"})
    await world.post(auth, "cstaff", f"{url['accepted']}/triage", {"action": "resolve_directly", "note": "已修好"})
    await world.post(auth, "bstaff", f"/api/v1/tenants/comm-b/concerns/{ids['b']}/triage",
                     {"action": "resolve_directly", "note": "已处理"})
    topic_id, topic_ids = await topic_at(client, auth, "executing")  # its concern closed by the topic's completion
    stopped.advance(datetime.timedelta(hours=5))
    await world.post(auth, "wuye", f"{BASE}/actions/{topic_ids['action']}/complete")

    auth = await world.on_day(20)
    ids["open"] = (await file(client, await auth("resident")))["id"]
    await world.post(auth, "cstaff", f"{BASE}/concerns/{ids['open']}/triage", {"action": "accept"})
    return ids


def _months() -> list[datetime.date]:
    """Every month from the one before the world began to today's."""
    today = clock.today()
    first = (today - datetime.timedelta(days=60)).replace(day=1)
    months = [first]
    while months[-1] < today.replace(day=1):
        months.append((months[-1] + datetime.timedelta(days=32)).replace(day=1))
    return months


async def _reference(app: Litestar, slug: str, first: datetime.date, last: datetime.date) -> dict[Any, RateTally]:
    """Every tenant's rates in the subtree of `slug` for the days [first, last], counted from the rows."""
    async with tenant_session(app, slug, STAFF[slug]) as scope, scope.subtree():
        return await rate_tallies(scope.session, first, last)


async def _slugs(app: Litestar) -> dict[str, Any]:
    """Every tenant's id by its slug."""
    async with app.state.sessionmaker() as session:
        return dict((await session.execute(select(Tenant.slug, Tenant.id))).all())


async def _differences(app: Litestar, client: AsyncClient) -> list[Any]:
    """Where what the app shows differs from the recount: each tenant's month own and rolled up, each ranking's
    rows, each portal's year."""
    auth, wrong, by_slug = Auth(client), [], await _slugs(app)
    for first in _months():
        for slug, user in STAFF.items():
            answer = await client.get(f"/api/v1/tenants/{slug}/rates", params={"month": first.strftime("%Y-%m")},
                                      headers=await auth(user))
            assert answer.status_code == 200, answer.text
            shown = answer.json()
            counted = await _reference(app, slug, first, month_end(first))
            expected = {"own": counted.get(by_slug[slug], RateTally()).figures(),
                        "rollup": sum(counted.values(), RateTally()).figures()}
            for part in ("own", "rollup"):
                if msgspec.convert(shown[part], RateFigures) != expected[part]:
                    wrong.append((slug, str(first), part, shown[part], expected[part]))
            if slug in RANKING:
                ranking = await client.get(f"/api/v1/tenants/{slug}/rates/ranking", headers=await auth(user),
                                           params={"month": first.strftime("%Y-%m"), "min": 1})
                assert ranking.status_code == 200, ranking.text
                rows = ranking.json()
                for row in [*rows["ranked"], *rows["too_few"]]:
                    kept = msgspec.convert(row["figures"], RateFigures)
                    if kept != counted.get(by_slug[row["slug"]], RateTally()).figures():
                        wrong.append((slug, str(first), "ranking", row["slug"], row["figures"]))
    for slug in ("comm-a", "street-a"):
        year = clock.today().year
        public = (await client.get(f"/api/v1/tenants/{slug}/public/rates", params={"year": year})).json()
        counted = sum((await _reference(app, slug, datetime.date(year, 1, 1), datetime.date(year, 12, 31))).values(),
                      RateTally()).figures()
        for name in ("response", "solved", "satisfied"):
            if public[name] != msgspec.to_builtins(getattr(counted, name)):
                wrong.append((slug, year, "public", name, public[name], getattr(counted, name)))
    return wrong


async def test_kept_rates_are_a_full_recount_before_and_after_their_deadlines_pass(
        app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(clock.now()) as stopped:
        start = stopped.at
        await _drive(app, client, stopped)
        counted = await _reference(app, "district-a", start.date() - datetime.timedelta(days=1),
                                   clock.today() + datetime.timedelta(days=60))
        together = sum(counted.values(), RateTally())
        # The world has what every rate counts: responses, deadlines, closings, revisits answered and a reopening.
        assert together.concerns_received >= 6 and together.reopened == 1 and together.said_solved >= 1
        assert together.hours["respond"] and together.hours["resolve"]
        assert await _differences(app, client) == []

        # Days later, with no event: the deadlines still ahead on day 20 have passed; the rates count them now.
        stopped.advance(datetime.timedelta(days=40))
        assert await _differences(app, client) == []

        # Recounted from the rows, then one concern alone in each batch: resolved, reopened by its revisit (a new
        # clock) and extended — its deadline's day left behind each time is recounted as the day it reaches.
        async with app.state.sessionmaker() as session:
            await recount(session)
            await session.commit()
        world = World(app, client, stopped)
        auth = await world.on_day(0)
        late = (await file(client, await auth("resident")))["id"]
        await world.post(auth, "cstaff", f"{BASE}/concerns/{late}/triage", {"action": "accept"})
        auth = await world.on_day(1)
        await world.post(auth, "cstaff", f"{BASE}/concerns/{late}/triage", {"action": "resolve_directly", "note": "好了"})
        auth = await world.on_day(3)
        await world.post(auth, "resident", f"{BASE}/concerns/{late}/revisit", {"solved": False, "satisfaction": "basic"})
        auth = await world.on_day(4)
        before = await _deadline(client, auth, late)
        asked = await world.post(auth, "cstaff", f"{BASE}/concerns/{late}/extensions",
                                 {"extra": "P3D", "reason": "需等待配件"}, status=201)
        await world.post(auth, "sstaff", f"/api/v1/tenants/street-a/extensions/{asked['id']}/decision",
                         {"approve": True})
        assert clock.local(await _deadline(client, auth, late)).date() != clock.local(before).date()
        await fan_out(app.state)
        assert await _differences(app, client) == []


async def _deadline(client: AsyncClient, auth: Auth, concern_id: str) -> datetime.datetime:
    answer = await client.get(f"{BASE}/concerns/{concern_id}", headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    return datetime.datetime.fromisoformat(answer.json()["deadlines"]["resolve_by"])


async def test_a_concern_not_yet_counted_takes_no_denominator_below_zero(app: Litestar, client: AsyncClient) -> None:
    """In the seconds before the fan-out counts a new concern, the live count of what is not yet due already sees
    it: the rate shown is no less than nothing, never a negative denominator or a share above one."""
    await file(client, await Auth(client)("resident"))
    async with http_client(app) as bare:  # no catching up before it: the concern is not counted yet
        shown = (await bare.get(f"{BASE}/rates", headers=await Auth(bare)("cstaff"))).json()
    for part in ("own", "rollup"):
        for name in ("response", "on_time"):
            assert shown[part][name]["denominator"] >= shown[part][name]["numerator"] >= 0, shown[part]
    assert shown["own"]["response"] == {"numerator": 0, "denominator": 0, "ratio": None}
