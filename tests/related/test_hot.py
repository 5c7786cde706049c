"""The month's hot topics (每月一题): the largest groups of one matter among a Beijing month's concerns, for a
community and rolled up for a street or district without mixing communities; ranked by size, then supporters;
refused months; the dashboard's block; and the red pavilion's monthly session taking them up (both databases)."""

from __future__ import annotations

import datetime
import html
from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.concerns.models import Concern
from core.related import hot as hot_module
from core.reporting.cli import recount
from core.tenancy.models import Building, Compound
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import sign_in, text_of

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 10, 12, 0, tzinfo=BEIJING)
HOT = "/api/v1/tenants/{slug}/related/hot"
CHARGE = ("电动车充电难", "小区充电桩太少，晚上下班回来充电桩全被占满，王女士说只能把电瓶拿回家充")
CHARGE_2 = ("王女士反映电动车没地方充电", "充电桩太少了，晚上回来全被占满，只能把电瓶拿回家充")
CHARGE_3 = ("充电桩太少，电动车充电难", "希望增设充电桩，晚上充电桩全被占满，王女士只能拿回家充")
LIGHT = ("楼道灯坏了", "晚上楼道一片漆黑，老人上下楼很危险")
LIGHT_2 = ("楼道声控灯坏了", "楼道灯不亮，晚上一片漆黑，上下楼很危险")
DOG = ("遛狗不拴绳", "有人遛狗不牵绳，小孩被吓到")
# name: (text, status, filed at (Beijing, 2026), supporters, building)
COMM_A = {
    "a1": (CHARGE, "accepted", "11-03 10:00", 1, "1号楼"),
    "a2": (CHARGE_2, "submitted", "11-12 09:00", 0, None),
    "a3": (CHARGE_3, "in_topic", "11-30 23:30", 0, "2号楼"),  # November's last half hour, in Beijing
    "a4": (LIGHT, "resolved", "11-05 10:00", 0, "1号楼"),
    "a5": (LIGHT_2, "accepted", "11-06 10:00", 0, "1号楼"),
    "a6": (DOG, "accepted", "11-07 10:00", 0, None),
    "a7": (CHARGE, "rejected", "11-08 10:00", 0, None),  # turned away: not counted
    "a8": (CHARGE_2, "merged", "11-09 10:00", 0, None),  # a duplicate merged into another: its survivor counts
    "a9": (CHARGE_3, "accepted", "12-01 00:10", 0, None),  # November on UTC's clock, December in Beijing
    "a10": (CHARGE, "accepted", "10-31 23:50", 0, None),  # October
}
# The same two matters in the neighbouring community: groups of their own.
COMM_B = {"b1": (CHARGE, "accepted", "11-04 10:00", 2, None), "b2": (CHARGE_3, "accepted", "11-05 10:00", 3, None),
          "b3": (LIGHT, "accepted", "11-06 10:00", 0, None), "b4": (LIGHT_2, "accepted", "11-07 10:00", 0, None)}
# Another district's: never in district-a's roll-up.
DISTRICT_B = {f"d{i}": (text, "accepted", "11-10 10:00", 0, None) for i, text in enumerate([CHARGE, CHARGE_2, CHARGE_3, CHARGE])}


@pytest.fixture
def stopped() -> Iterator[clock.Stopped]:
    with clock.frozen(NOW) as stopped:
        yield stopped


async def put_in(app: Litestar, slug: str, user: str, concerns: dict) -> dict[str, str]:
    """The concerns, filed at the given moments; their ids by name."""
    async with tenant_session(app, slug, user) as scope:
        compound = await scope.session.scalar(select(Compound).order_by(Compound.name).limit(1))
        buildings = {b.name: b.id for b in (await scope.session.scalars(select(Building))).all()}
        made = {}
        for number, (name, ((title, description), status, filed, supporters, building)) in enumerate(concerns.items()):
            made[name] = Concern(
                reference=f"H-{name}-{number}", title=title, description=description, category="ev_charging",
                channel="portal", status=status, supporters=supporters, compound_id=compound.id if compound else None,
                building_id=buildings.get(building) if building else None, resident_name="王女士",
                created_at=datetime.datetime.strptime(f"2026-{filed}", "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING))
            scope.session.add(made[name])
        await scope.session.flush()
        return {name: str(concern.id) for name, concern in made.items()}


@pytest.fixture
async def filed(app: Litestar, stopped: clock.Stopped) -> dict[str, str]:
    """The concerns put in as rows, with no events: counted as `yishi stats rebuild` counts them (a roll-up picks
    the busiest communities from the kept figures)."""
    made = {**await put_in(app, "comm-a", "cstaff", COMM_A), **await put_in(app, "comm-b", "bstaff", COMM_B),
            **await put_in(app, "district-b", "badmin", DISTRICT_B)}
    async with app.state.sessionmaker() as session:
        await recount(session)
        await session.commit()
    return made


async def hot(client: AsyncClient, auth: Auth, user: str, slug: str, month: str = "2026-11") -> dict:
    answer = await client.get(HOT.format(slug=slug), params={"month": month}, headers=await auth(user))
    assert answer.status_code == 200, answer.text
    return answer.json()


def groups(answer: dict, ids: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Each topic as (community, the names of its concerns)."""
    names = {concern: name for name, concern in ids.items()}
    return [(t["tenant"], sorted(names[i] for i in t["concern_ids"])) for t in answer["topics"]]


async def test_a_communitys_hot_topics_are_its_largest_groups_of_the_beijing_month(
        client: AsyncClient, auth: Auth, filed: dict[str, str]) -> None:
    answer = await hot(client, auth, "cstaff", "comm-a")
    assert answer["month"] == "2026-11" and answer["tenant"] == "comm-a" and answer["tenants_grouped"] == 1
    assert groups(answer, filed) == [("comm-a", ["a1", "a2", "a3"]), ("comm-a", ["a4", "a5"])]
    charging, light = answer["topics"]
    assert charging["count"] == 3 and charging["supporters"] == 1 and charging["tenant_name"] == "甲社区"
    assert charging["where"] == "甲小区 1、2号楼" and charging["summary"].startswith(f"{charging['label']}: 3 条")
    assert light["where"] == "甲小区 1号楼"
    december = await hot(client, auth, "cstaff", "comm-a", "2026-12")
    assert groups(december, filed) == []  # a9 alone in December, a10 alone in October
    assert (await hot(client, auth, "cstaff", "comm-a", ""))["month"] == "2026-12"  # the default: this month


async def test_a_district_rolls_up_its_communities_without_mixing_them(client: AsyncClient, auth: Auth,
                                                                      filed: dict[str, str]) -> None:
    district = await hot(client, auth, "dadmin", "district-a")
    # Ranked by size, then by supporters: comm-b's charging (5 supporters) before either group of lights.
    assert groups(district, filed) == [("comm-a", ["a1", "a2", "a3"]), ("comm-b", ["b1", "b2"]),
                                       ("comm-a", ["a4", "a5"]), ("comm-b", ["b3", "b4"])]
    assert district["tenants_grouped"] == 2 and district["topics"][1]["supporters"] == 5
    assert await hot(client, auth, "sstaff", "street-a") == {**district, "tenant": "street-a"}
    assert groups(await hot(client, auth, "bstaff", "comm-b"), filed) == [("comm-b", ["b1", "b2"]),
                                                                           ("comm-b", ["b3", "b4"])]
    other = await hot(client, auth, "badmin", "district-b")
    assert groups(other, filed) == [("district-b", ["d0", "d1", "d2", "d3"])]


async def test_a_roll_up_groups_the_busiest_communities_and_their_newest_concerns(
        client: AsyncClient, auth: Auth, filed: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hot_module, "TENANTS", 1)  # comm-a filed six in November that count, comm-b four
    district = await hot(client, auth, "dadmin", "district-a")
    assert district["tenants_grouped"] == 1
    assert groups(district, filed) == [("comm-a", ["a1", "a2", "a3"]), ("comm-a", ["a4", "a5"])]
    monkeypatch.setattr(hot_module, "PER_TENANT", 4)  # November's newest four of comm-a: a3, a2, a6, a5
    assert groups(await hot(client, auth, "dadmin", "district-a"), filed) == [("comm-a", ["a2", "a3"])]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "11/2026", "1999-12", "2027-01", "２０２６-１１"])
async def test_a_bad_month_is_refused_naming_it(client: AsyncClient, auth: Auth, stopped: clock.Stopped,
                                                month: str) -> None:
    answer = await client.get(HOT.format(slug="street-a"), params={"month": month}, headers=await auth("sstaff"))
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == "month" and "月份" in answer.json()["errors"][0]["message"]
    too_long = await client.get(HOT.format(slug="street-a"), params={"month": "2026-11" * 5},
                                headers=await auth("sstaff"))
    assert too_long.status_code == 400


async def test_only_staff_read_hot_topics(client: AsyncClient, auth: Auth, filed: dict[str, str]) -> None:
    for user, slug, status in (("resident", "comm-a", 403), ("grid", "comm-a", 403), ("bstaff", "comm-a", 403),
                               ("cstaff", "district-a", 403), ("dadmin", "comm-a", 200)):
        answer = await client.get(HOT.format(slug=slug), params={"month": "2026-11"}, headers=await auth(user))
        assert answer.status_code == status, (user, slug, answer.text)


async def test_the_dashboard_shows_the_months_hot_topics(client: AsyncClient, auth: Auth,
                                                        filed: dict[str, str]) -> None:
    await sign_in(client, "district-a", "dadmin")
    page = await client.get("/t/district-a/admin", params={"month": "2026-11"})
    assert page.status_code == 200
    shown = text_of(page)
    assert "本月热点" in shown and "3 条, 甲小区 1、2号楼" in shown and "6 人附议" not in shown
    assert shown.index("3 条") < shown.index("5 人附议")  # comm-b's charging, second
    assert page.text.count('data-community="comm-b"') >= 2 and "乙社区" in shown


async def test_the_red_pavilions_monthly_session_takes_up_last_months_hot_topics(
        client: AsyncClient, auth: Auth, filed: dict[str, str], stopped: clock.Stopped) -> None:
    staff = await auth("cstaff")
    await client.patch("/api/v1/tenants/comm-a", json={"plugins": ["liaison_station", "red_pavilion"]}, headers=staff)
    venue = (await client.post("/api/v1/tenants/comm-a/pavilion/venues", headers=staff,
                               json={"name": "红色议事亭", "party_committee": "甲社区党委"})).json()
    planned = await client.post(f"/api/v1/tenants/comm-a/pavilion/venues/{venue['id']}/monthly",
                                json={"day": 15, "time": "19:30"}, headers=staff)
    assert planned.status_code == 200, planned.text
    session = planned.json()  # on 15 December: November's hot topics
    assert session["hot_month"] == "2026-11"
    assert [(t["count"], sorted(t["concern_ids"])) for t in session["hot_topics"]] == [
        (3, sorted(filed[n] for n in ("a1", "a2", "a3"))), (2, sorted(filed[n] for n in ("a4", "a5")))]
    # Everyone with a role reads the sessions: the labels come from public summaries, never a resident's name.
    upcoming = (await client.get("/api/v1/tenants/comm-a/pavilion/sessions?upcoming=true",
                                 headers=await auth("resident"))).json()
    assert upcoming[0]["hot_topics"] == session["hot_topics"]
    assert all("王" not in t["label"] for t in session["hot_topics"]), session["hot_topics"]
    await sign_in(client, "comm-a", "resident")
    page = await client.get("/t/comm-a/pavilion/")
    assert page.status_code == 200
    shown = html.unescape(text_of(page))
    assert "2026-11 热点" in shown and f"{session['hot_topics'][0]['label']} : 3 条" in shown
    # Once held (on the evening of the 15th), a session keeps the agenda it had; the next one, on 15 January,
    # is offered December's so far.
    stopped.advance(datetime.timedelta(days=5, hours=9))
    held = await client.post(f"/api/v1/tenants/comm-a/pavilion/sessions/{session['id']}/held", headers=staff,
                             json={"party_members": []})
    assert held.status_code == 200 and held.json()["hot_topics"] == [] and held.json()["hot_month"] is None
    following = (await client.get("/api/v1/tenants/comm-a/pavilion/sessions?upcoming=true", headers=staff)).json()
    assert following[0]["hot_month"] == "2026-12" and following[0]["hot_topics"] == []
