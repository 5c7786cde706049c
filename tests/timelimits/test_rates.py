"""The rates of 接诉即办 (docs/rates.md) over concerns and revisits with known clocks in two communities under a
street and the street itself: every rate's numerator and denominator, own and rolled up, Beijing months, the
红黑榜 with its minimum, who may read them, refused months, a portal's three rates and the open data (both
databases)."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar

from core import clock
from core.concerns.models import Concern
from core.reporting.cli import recount
from core.tenancy.scope import tenant_session
from core.timelimits.models import Revisit
from tests.conftest import Auth
from tests.helpers import sign_in, text_of

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 10, 12, 0, tzinfo=BEIJING)


def at(text: str | None) -> datetime.datetime | None:
    """`11-02 10:00` in 2026 on Beijing time (`10-25 …` too); None stays None."""
    if text is None:
        return None
    return datetime.datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)


# name: (received, respond_by, responded_at, resolve_by, closed_at, status)
COMM_A = {
    "A1": ("11-02 10:00", "11-03 10:00", "11-02 12:00", "11-09 18:00", "11-05 10:00", "resolved"),  # both in time
    "A2": ("11-10 09:00", "11-11 09:00", "11-12 09:00", "11-17 18:00", "11-20 09:00", "resolved"),  # both late
    "A3": ("11-30 23:30", "12-01 23:30", None, "12-09 18:00", None, "submitted"),  # November's last half hour; past due
    "A4": ("11-01 07:00", "11-01 09:00", "11-01 08:00", "12-20 18:00", None, "accepted"),  # October on UTC's clock
    "A5": ("12-01 00:30", None, None, None, None, "submitted"),  # November on UTC's clock, December in Beijing
    "A6": ("11-15 10:00", "11-16 10:00", "11-15 11:00", "11-22 18:00", "11-15 11:00", "rejected"),
    "A7": ("11-29 10:00", "12-15 10:00", None, "12-30 18:00", None, "submitted"),  # not yet due: not counted yet
    "A8": ("10-25 10:00", "10-26 10:00", "10-25 12:00", "11-03 18:00", "11-04 10:00", "resolved"),  # due in November
    "A9": ("11-03 10:00", "11-04 10:00", "11-03 14:00", "11-12 18:00", None, "accepted"),  # past its resolve_by
}
COMM_B = {
    "B1": ("11-05 10:00", "11-06 10:00", "11-05 11:00", "11-12 18:00", "11-06 10:00", "resolved"),
    "B2": ("11-06 10:00", "11-07 10:00", "11-06 10:30", "11-13 18:00", "11-08 10:00", "resolved"),
}
STREET = {"S1": ("11-20 10:00", "11-21 10:00", None, "11-27 18:00", None, "accepted")}
# concern: (asked_at, answered_at, solved, satisfaction)
REVISITS_A = {
    "A1": ("11-05 10:00", "11-06 10:00", True, "satisfied"),
    "A2": ("11-20 09:00", "11-21 09:00", False, "unsatisfied"),  # 未解决: reopened
    "A8": ("11-04 10:00", None, None, None),  # asked, never answered
    "A9": ("10-31 23:00", "11-01 09:00", True, "basic"),  # asked in October, answered in November
    "A4": ("11-28 10:00", "11-29 10:00", True, None),  # no satisfaction given
    "A3": ("11-30 10:00", "12-01 09:00", True, "satisfied"),  # answered in December
}
REVISITS_B = {"B1": ("11-06 10:00", "11-07 10:00", True, "satisfied"), "B2": ("11-08 10:00", "11-09 10:00", True, "basic")}


async def put_in(app: Litestar, slug: str, user: str, concerns: dict[str, tuple], revisits: dict[str, tuple]) -> None:
    async with tenant_session(app, slug, user) as scope:
        made: dict[str, Concern] = {}
        for number, (name, (received, respond_by, responded, resolve_by, closed, status)) in enumerate(concerns.items()):
            made[name] = Concern(
                reference=f"R-{name}-{number}", title=f"诉求{name}", description="楼道灯坏了", category="other",
                channel="portal", status=status, created_at=at(received), respond_by=at(respond_by),
                responded_at=at(responded), resolve_by=at(resolve_by), closed_at=at(closed))
            scope.session.add(made[name])
        await scope.session.flush()
        for name, (asked, answered, solved, satisfaction) in revisits.items():
            scope.session.add(Revisit(concern_id=made[name].id, round=1, asked_at=at(asked), answered_at=at(answered),
                                      solved=solved, satisfaction=satisfaction, channel="self" if answered else None))


@pytest.fixture
def stopped() -> Iterator[clock.Stopped]:
    with clock.frozen(NOW) as stopped:
        yield stopped


@pytest.fixture
async def counted(app: Litestar, world: None, stopped: clock.Stopped) -> None:
    """The concerns and revisits put in as rows, with no events: counted as `yishi stats rebuild` counts them."""
    await put_in(app, "comm-a", "cstaff", COMM_A, REVISITS_A)
    await put_in(app, "comm-b", "bstaff", COMM_B, REVISITS_B)
    await put_in(app, "street-a", "sstaff", STREET, {})
    async with app.state.sessionmaker() as session:
        await recount(session)
        await session.commit()


def counts(figures: dict) -> dict[str, Any]:
    """Each rate as (numerator, denominator), the rest as they are."""
    return {name: (value["numerator"], value["denominator"]) if isinstance(value, dict) else value
            for name, value in figures.items()}


async def rates(client: AsyncClient, auth: Auth, user: str, slug: str, **params: Any) -> Any:
    answer = await client.get(f"/api/v1/tenants/{slug}/rates", params=params, headers=await auth(user))
    assert answer.status_code == 200, answer.text
    return answer.json()


COMM_A_NOVEMBER = {
    "concerns_received": 7,  # A1–A4, A6, A7, A9: not A5 (December in Beijing), not A8 (October)
    "response": (4, 6),  # in time: A1, A4, A6, A9; late: A2, A3 (past due); A7 not yet due
    "on_time": (1, 4),  # due in November: A1 (in time), A2 (late), A8 (late), A9 (open, past due); A6 rejected
    "solved": (3, 4),  # answered in November: A1, A9, A4 solved, A2 not
    "satisfied": (2, 3),  # A1 满意, A9 基本满意, A2 不满意; A4 gave none
    "reopened": (1, 5),  # asked in November: A1, A2, A8, A4, A3; A2 said 未解决
    "revisited": (4, 5),  # of those, all but A8 answered (A3 in December)
    "median_hours_to_respond": 2.0,  # responded in November: 1 (A4), 1 (A6), 2 (A1), 4 (A9), 48 (A2)
    "median_hours_to_resolve": 240.0,  # closed in November: 72 (A1), 240 (A2), 240 (A8); A6 rejected
}
COMM_B_NOVEMBER = {
    "concerns_received": 2, "response": (2, 2), "on_time": (2, 2), "solved": (2, 2), "satisfied": (2, 2),
    "reopened": (0, 2), "revisited": (2, 2), "median_hours_to_respond": 0.8, "median_hours_to_resolve": 36.0,
}
STREET_OWN = {
    "concerns_received": 1, "response": (0, 1), "on_time": (0, 1), "solved": (0, 0), "satisfied": (0, 0),
    "reopened": (0, 0), "revisited": (0, 0), "median_hours_to_respond": None, "median_hours_to_resolve": None,
}
ROLLED_UP = {
    "concerns_received": 10, "response": (6, 9), "on_time": (3, 7), "solved": (5, 6), "satisfied": (4, 5),
    "reopened": (1, 7), "revisited": (6, 7),
    "median_hours_to_respond": 1.0,  # 0.5, 1, 1, 1, 2, 4, 48
    "median_hours_to_resolve": 72.0,  # 24, 48, 72, 240, 240
}


@pytest.mark.usefixtures("counted")
async def test_every_rate_counts_its_numerator_and_denominator_own_and_rolled_up(client: AsyncClient,
                                                                                 auth: Auth) -> None:
    comm_a = await rates(client, auth, "cstaff", "comm-a", month="2026-11")
    assert comm_a["month"] == "2026-11" and comm_a["tenants_in_rollup"] == 1
    assert counts(comm_a["own"]) == COMM_A_NOVEMBER and comm_a["rollup"] == comm_a["own"]
    assert comm_a["own"]["response"]["ratio"] == pytest.approx(0.6667) and comm_a["own"]["solved"]["ratio"] == 0.75
    assert counts((await rates(client, auth, "bstaff", "comm-b", month="2026-11"))["own"]) == COMM_B_NOVEMBER
    street = await rates(client, auth, "sstaff", "street-a", month="2026-11")
    assert counts(street["own"]) == STREET_OWN and counts(street["rollup"]) == ROLLED_UP
    assert street["own"]["solved"]["ratio"] is None  # nothing to count: no ratio, not 0
    assert street["tenants_in_rollup"] == 3
    district = await rates(client, auth, "dadmin", "district-a", month="2026-11")
    assert counts(district["rollup"]) == ROLLED_UP and district["own"]["concerns_received"] == 0


@pytest.mark.usefixtures("counted")
async def test_months_are_beijing_months_and_the_default_is_this_one(client: AsyncClient, auth: Auth) -> None:
    december = await rates(client, auth, "cstaff", "comm-a")
    assert december["month"] == "2026-12"
    # A5 was received at 00:30 on 1 December in Beijing (still 30 November in UTC); A3 at 23:30 on 30 November.
    assert december["own"]["concerns_received"] == 1
    assert counts(december["own"])["solved"] == (1, 1)  # A3's revisit, answered on 1 December
    october = await rates(client, auth, "cstaff", "comm-a", month="2026-10")
    assert october["own"]["concerns_received"] == 1  # A8; A4 (07:00 on 1 November, Beijing) is not October's
    assert counts(october["own"])["reopened"] == (0, 1)  # A9's revisit, asked at 23:00 on 31 October


@pytest.mark.usefixtures("counted")
async def test_a_concern_not_yet_due_counts_once_it_is_due(client: AsyncClient, auth: Auth,
                                                           stopped: clock.Stopped) -> None:
    stopped.advance(datetime.timedelta(days=6))  # 16 December: A7 (respond by 15 December) is now late
    later = await rates(client, auth, "cstaff", "comm-a", month="2026-11")
    assert counts(later["own"])["response"] == (4, 7)


async def test_the_ranking_orders_the_communities_and_leaves_out_those_with_too_few(
        app: Litestar, client: AsyncClient, auth: Auth, counted: None) -> None:
    url = "/api/v1/tenants/street-a/rates/ranking"
    both = (await client.get(url, params={"month": "2026-11", "min": 2}, headers=await auth("sstaff"))).json()
    assert [r["slug"] for r in both["ranked"]] == ["comm-b", "comm-a"] and both["min_concerns"] == 2
    assert [r["rank"] for r in both["ranked"]] == [1, 2]
    assert [r["slug"] for r in both["red"]] == ["comm-b"] and [r["slug"] for r in both["black"]] == ["comm-a"]
    # comm-a: the mean of 响应率 4/6, 按时办结率 1/4 and 满意率 2/3.
    assert both["ranked"][1]["composite"] == pytest.approx((0.6667 + 0.25 + 0.6667) / 3, abs=1e-4)
    assert both["ranked"][0]["composite"] == 1.0 and counts(both["ranked"][1]["figures"]) == COMM_A_NOVEMBER
    assert both["too_few"] == []
    three = (await client.get(url, params={"month": "2026-11", "min": 3}, headers=await auth("sstaff"))).json()
    assert [r["slug"] for r in three["ranked"]] == ["comm-a"] and three["red"] == three["black"] == []
    assert [(r["slug"], r["rank"]) for r in three["too_few"]] == [("comm-b", None)]
    # Without `min`: 10 by default, then what the district set for every tenant below.
    default = (await client.get(url, params={"month": "2026-11"}, headers=await auth("sstaff"))).json()
    assert default["min_concerns"] == 10 and default["ranked"] == [] and len(default["too_few"]) == 2
    patched = await client.patch("/api/v1/tenants/district-a", json={"portal": {"rates_min_concerns": "2"}},
                                 headers=await auth("dadmin"))
    assert patched.status_code == 200, patched.text
    district = (await client.get("/api/v1/tenants/district-a/rates/ranking", params={"month": "2026-11"},
                                 headers=await auth("dadmin"))).json()
    assert district["min_concerns"] == 2 and [r["slug"] for r in district["ranked"]] == ["comm-b", "comm-a"]
    bad = await client.patch("/api/v1/tenants/district-a", json={"portal": {"rates_min_concerns": "0"}},
                             headers=await auth("dadmin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "portal.rates_min_concerns"


@pytest.mark.parametrize("user, slug", [("resident", "comm-a"), ("badmin", "district-a"), ("badmin", "comm-a"),
                                        ("cstaff", "street-a"), ("grid", "comm-a")])
async def test_only_staff_of_the_tenant_and_above_read_the_rates(client: AsyncClient, auth: Auth, user: str,
                                                                 slug: str) -> None:
    for path in ("rates", "rates/ranking"):
        answer = await client.get(f"/api/v1/tenants/{slug}/{path}", headers=await auth(user))
        assert answer.status_code in (403, 404), answer.text
    anonymous = await client.get(f"/api/v1/tenants/{slug}/rates")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "11/2026", "1999-12", "2027-01", "x" * 16,
                                   "２０２６-１１"])
async def test_a_bad_month_is_refused_naming_it(client: AsyncClient, auth: Auth, stopped: clock.Stopped,
                                                month: str) -> None:
    for path in ("rates", "rates/ranking"):
        answer = await client.get(f"/api/v1/tenants/street-a/{path}", params={"month": month},
                                  headers=await auth("sstaff"))
        assert answer.status_code in (400, 422), answer.text
        assert answer.json()["errors"][0]["field"] == "month", answer.text
    too_long = await client.get("/api/v1/tenants/street-a/rates", params={"month": "2026-11" * 5},
                                headers=await auth("sstaff"))
    assert too_long.status_code == 400
    minimum = await client.get("/api/v1/tenants/street-a/rates/ranking", params={"min": 0}, headers=await auth("sstaff"))
    assert minimum.status_code == 400 and "min" in minimum.text


async def test_a_portal_shows_its_three_rates_for_the_year_with_their_denominators(
        client: AsyncClient, auth: Auth, counted: None) -> None:
    home = await client.get("/t/comm-a/")
    assert home.status_code == 200
    shown = text_of(home)
    # 2026 so far, under the default minimum of 10: every rate has too few to show.
    assert "响应率" in shown and "解决率" in shown and "满意率" in shown and shown.count("样本不足") == 3
    await client.patch("/api/v1/tenants/district-a", json={"portal": {"rates_min_concerns": "4"}},
                       headers=await auth("dadmin"))
    home = text_of(await client.get("/t/comm-a/"))
    # 响应率 5/7 (A1, A4, A6, A8, A9 of all but A5 and A7); 解决率 4/5; 满意率 3/4.
    assert "71.4%" in home and "5 / 7" in home and "80.0%" in home and "4 / 5" in home
    assert "75.0%" in home and "3 / 4" in home and "样本不足" not in home
    assert "楼道灯" not in home and "诉求A1" not in home  # counts only, nothing a resident wrote
    stats = await client.get("/api/v1/tenants/comm-a/public/rates")
    assert stats.status_code == 200 and counts(stats.json())["response"] == (5, 7)


async def test_open_data_has_each_months_rates(client: AsyncClient, counted: None) -> None:
    answer = await client.get("/api/v1/tenants/comm-a/public/open-data/rates.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert {"month", "concerns_received", "response_numerator", "response_denominator", "response_rate",
            "on_time_rate", "solved_rate", "satisfied_rate", "reopened_rate", "revisited_rate",
            "median_hours_to_respond", "median_hours_to_resolve"} <= set(rows[0])
    assert [r["month"] for r in rows] == ["2026-10", "2026-11", "2026-12"]
    november = rows[1]
    assert (november["response_numerator"], november["response_denominator"], november["response_rate"]) == ("4", "6", "0.6667")
    assert (november["on_time_numerator"], november["on_time_denominator"]) == ("1", "4")
    assert rows[0]["solved_rate"] == ""  # nothing to count: an empty cell, not 0
    xlsx = await client.get("/api/v1/tenants/comm-a/public/open-data/rates.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_the_dashboard_shows_the_months_rates_and_the_red_and_black_lists(
        client: AsyncClient, auth: Auth, counted: None) -> None:
    await client.patch("/api/v1/tenants/district-a", json={"portal": {"rates_min_concerns": "2"}},
                       headers=await auth("dadmin"))
    await sign_in(client, "street-a", "sstaff")
    page = await client.get("/t/street-a/admin", params={"month": "2026-11"})
    assert page.status_code == 200, page.text[:500]
    assert 'id="rates"' in page.text
    red = page.text.split('id="red-list"')[1].split("</ol>")[0]
    black = page.text.split('id="black-list"')[1].split("</ol>")[0]
    assert "乙社区" in red and "甲社区" not in red and "甲社区" in black
    assert "6 / 9" in text_of(page)  # the street's 响应率, rolled up
    assert "<script" not in page.text.split("</head>")[1]
    bad = await client.get("/t/street-a/admin", params={"month": "2026-13"})
    assert bad.status_code == 422 and 'id="month-error"' in bad.text
