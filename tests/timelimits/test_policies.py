"""Time-limit policies through the API and the portal: inherited three levels deep with where each value came
from, a child only tightening, clearing back to the inherited value, refusals naming their fields, the wall
between tenants, and the deadlines a filing will get (both databases)."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.tenancy.scope import tenant_session
from core.timelimits.services import deadlines, effective_policy
from tests.conftest import PG_REACHABLE, Auth, DatabaseUnderTest
from tests.helpers import sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def url(slug: str) -> str:
    return f"/api/v1/tenants/{slug}/time-limits"


def cell(policy: dict, urgency: str, kind: str, category: str = "*") -> dict:
    row = next(r for r in policy["limits"] if r["category"] == category and r["urgency"] == urgency)
    return row[kind]


async def put(client: AsyncClient, auth: Auth, user: str, slug: str, limits: list[dict], **extra: Any) -> Any:
    return await client.put(url(slug), json={"limits": limits, **extra}, headers=await auth(user))


async def test_where_nobody_set_anything_the_platforms_defaults_apply(client: AsyncClient, auth: Auth) -> None:
    answer = await client.get(url("comm-a"), headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    policy = answer.json()
    assert cell(policy, "urgent", "respond") == {"duration": "PT2H", "working": False, "source": None, "own": False}
    assert cell(policy, "urgent", "resolve")["duration"] == "P1D"
    assert cell(policy, "normal", "respond")["duration"] == "PT24H"
    assert (cell(policy, "normal", "resolve")["duration"], cell(policy, "normal", "resolve")["working"]) == ("P7D", True)
    assert (cell(policy, "complex", "resolve")["duration"], cell(policy, "complex", "resolve")["working"]) == ("P15D", True)
    assert policy["working_hours"] == [["08:30", "12:00"], ["14:30", "18:00"]]
    assert policy["escalate_ceiling"] == "street" and policy["own"]["limits"] == []


async def test_inheritance_three_levels_deep_names_where_each_value_came_from(client: AsyncClient, auth: Auth) -> None:
    district = await put(client, auth, "dadmin", "district-a", [
        {"urgency": "normal", "resolve": "P5D", "resolve_working": True},
        {"category": "heating", "urgency": "urgent", "respond": "PT1H"}], working_hours=[["09:00", "12:00"], ["14:00", "17:30"]])
    assert district.status_code == 200, district.text
    street = await put(client, auth, "sstaff", "street-a", [{"urgency": "normal", "respond": "PT12H"}])
    assert street.status_code == 200, street.text
    community = await put(client, auth, "cstaff", "comm-a", [{"urgency": "normal", "resolve": "P3D", "resolve_working": True}])
    assert community.status_code == 200, community.text
    policy = (await client.get(url("comm-a"), headers=await auth("cstaff"))).json()
    assert community.json() == policy  # PUT answers the effective policy
    assert cell(policy, "normal", "resolve") == {"duration": "P3D", "working": True, "own": True,
                                                 "source": {"slug": "comm-a", "name": "甲社区"}}
    assert cell(policy, "normal", "respond")["source"] == {"slug": "street-a", "name": "甲街道"}
    heating = cell(policy, "urgent", "respond", "heating")
    assert (heating["duration"], heating["source"]["name"]) == ("PT1H", "甲区")
    assert cell(policy, "normal", "resolve", "heating")["source"]["slug"] == "comm-a"  # any category, set below
    assert cell(policy, "urgent", "resolve")["source"] is None  # still the default
    assert policy["working_hours"] == [["09:00", "12:00"], ["14:00", "17:30"]]
    assert policy["working_hours_source"]["slug"] == "district-a"
    assert [r["category_name"] for r in policy["limits"] if r["urgency"] == "urgent"] == ["全部类别", "供暖"]
    # The community's neighbour inherits the district's and the street's, not comm-a's.
    neighbour = (await client.get(url("comm-b"), headers=await auth("bstaff"))).json()
    assert cell(neighbour, "normal", "resolve")["duration"] == "P5D"
    assert cell(neighbour, "normal", "resolve")["source"]["slug"] == "district-a"


async def test_a_child_may_tighten_never_loosen_and_clearing_inherits_again(client: AsyncClient, auth: Auth) -> None:
    await put(client, auth, "dadmin", "district-a", [{"urgency": "normal", "resolve": "P5D", "resolve_working": True},
                                                     {"urgency": "urgent", "respond": "PT2H"}])
    looser = await put(client, auth, "cstaff", "comm-a", [{"urgency": "normal", "resolve": "P6D", "resolve_working": True}])
    assert looser.status_code == 422, looser.text
    error = looser.json()["errors"][0]
    assert error["field"] == "limits[0].resolve"
    assert "甲区" in error["message"] and "P5D" in error["message"] and "工作时间" in error["message"]
    # Working time against a natural limit above is never provably shorter.
    working = await put(client, auth, "cstaff", "comm-a", [{"urgency": "urgent", "respond": "PT1H", "respond_working": True}])
    assert working.status_code == 422 and working.json()["errors"][0]["field"] == "limits[0].respond"
    tighter = await put(client, auth, "cstaff", "comm-a", [{"urgency": "normal", "resolve": "P4D", "resolve_working": True},
                                                          {"urgency": "urgent", "respond": "PT1H"}])
    assert tighter.status_code == 200, tighter.text
    assert cell(tighter.json(), "normal", "resolve")["duration"] == "P4D"
    # Natural time no longer than the working limit above is tighter.
    natural = await put(client, auth, "cstaff", "comm-a", [{"urgency": "normal", "resolve": "P5D"}])
    assert natural.status_code == 200 and cell(natural.json(), "normal", "resolve")["working"] is False
    cleared = await put(client, auth, "cstaff", "comm-a", [])
    assert cleared.status_code == 200
    assert cell(cleared.json(), "normal", "resolve")["source"]["slug"] == "district-a"
    assert cleared.json()["own"]["limits"] == []


async def test_a_district_tightening_later_wins_over_a_looser_value_below(client: AsyncClient, auth: Auth) -> None:
    await put(client, auth, "dadmin", "district-a", [{"urgency": "normal", "resolve": "P5D", "resolve_working": True}])
    await put(client, auth, "cstaff", "comm-a", [{"urgency": "normal", "resolve": "P4D", "resolve_working": True}])
    await put(client, auth, "dadmin", "district-a", [{"urgency": "normal", "resolve": "P3D", "resolve_working": True}])
    policy = (await client.get(url("comm-a"), headers=await auth("cstaff"))).json()
    assert cell(policy, "normal", "resolve")["duration"] == "P3D"
    assert cell(policy, "normal", "resolve")["source"]["slug"] == "district-a"
    assert policy["overridden"] == ["*/normal/resolve"]
    assert policy["own"]["limits"][0]["resolve"] == "P4D"  # kept, to apply again if the district loosens


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"limits": [{"urgency": "normal", "respond": "P1M"}]}, "limits[0].respond", "ISO 8601"),
    ({"limits": [{"urgency": "normal", "resolve": "两天"}]}, "limits[0].resolve", "办结时限"),
    ({"limits": [{"urgency": "normal", "resolve": "PT0S"}]}, "limits[0].resolve", "大于零"),
    ({"limits": [{"urgency": "soon", "resolve": "P1D"}]}, "limits[0].urgency", "urgent"),
    ({"limits": [{"urgency": "normal", "category": "nothing", "resolve": "P1D"}]}, "limits[0].category", "heating"),
    ({"limits": [{"urgency": "normal", "resolve": "P1D"}, {"urgency": "normal", "respond": "PT1H"}]},
     "limits[1].urgency", "重复"),
    ({"limits": [], "working_hours": [["08:30", "12:00"], ["11:00", "18:00"]]}, "working_hours", "重叠"),
    ({"limits": [], "working_hours": [["8 点", "12:00"]]}, "working_hours[0]", "HH:MM"),
    ({"limits": [], "working_hours": []}, "working_hours", "至少"),
    ({"limits": [], "escalate_ceiling": "community"}, "escalate_ceiling", "street"),
    ({"limits": [], "escalate_after_hours": 0}, "escalate_after_hours", "不能小于"),
])
async def test_bad_input_is_refused_naming_the_field(client: AsyncClient, auth: Auth, body: dict, field: str,
                                                     words: str) -> None:
    answer = await client.put(url("comm-a"), json=body, headers=await auth("cstaff"))
    assert answer.status_code == 422, answer.text
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert field in errors and words in errors[field], errors
    assert (await client.get(url("comm-a"), headers=await auth("cstaff"))).json()["own"]["limits"] == []


async def test_other_tenants_policies_are_neither_changed_nor_readable(client: AsyncClient, auth: Auth) -> None:
    await put(client, auth, "cstaff", "comm-a", [{"urgency": "urgent", "respond": "PT1H"}])
    for user, slug in (("bstaff", "comm-a"), ("cstaff", "comm-b"), ("badmin", "comm-a"), ("cstaff", "street-a")):
        read = await client.get(url(slug), headers=await auth(user))
        assert read.status_code in (403, 404), (user, slug, read.status_code)
        written = await put(client, auth, user, slug, [{"urgency": "urgent", "respond": "PT30M"}])
        assert written.status_code in (403, 404), (user, slug, written.status_code)
    neighbour = (await client.get(url("comm-b"), headers=await auth("bstaff"))).json()
    assert cell(neighbour, "urgent", "respond")["duration"] == "PT2H"
    assert cell((await client.get(url("comm-a"), headers=await auth("cstaff"))).json(), "urgent", "respond")["duration"] == "PT1H"
    # Staff above read and set a community's own values.
    assert (await client.get(url("comm-a"), headers=await auth("dadmin"))).status_code == 200
    assert (await put(client, auth, "sstaff", "comm-a", [{"urgency": "urgent", "respond": "PT45M"}])).status_code == 200


async def test_a_resident_can_neither_read_nor_set_time_limits(client: AsyncClient, auth: Auth) -> None:
    assert (await client.get(url("comm-a"), headers=await auth("resident"))).status_code == 403
    assert (await put(client, auth, "resident", "comm-a", [{"urgency": "urgent", "respond": "PT1H"}])).status_code == 403
    assert (await client.get(url("comm-a"))).status_code == 401


async def test_the_effective_policy_is_read_in_one_query_and_gives_a_filings_deadlines(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await put(client, auth, "dadmin", "district-a", [{"urgency": "normal", "resolve": "P5D", "resolve_working": True}])
    await put(client, auth, "sstaff", "street-a", [{"urgency": "normal", "respond": "PT4H", "respond_working": True}])
    async with tenant_session(app, "comm-a", actor="cstaff") as scope:
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        engine = app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            policy = await effective_policy(scope.session, scope.tenant)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements
        friday_evening = datetime.datetime(2024, 11, 1, 19, tzinfo=BEIJING)
        respond_by, resolve_by = deadlines(policy, "noise", "normal", friday_evening)
        assert respond_by == datetime.datetime(2024, 11, 4, 15, tzinfo=BEIJING)  # 4 working hours from Monday 08:30
        assert resolve_by == datetime.datetime(2024, 11, 11, 8, 30, tzinfo=BEIJING)  # 5 working days after Monday 08:30
        urgent = deadlines(policy, "noise", "urgent", friday_evening)
        assert urgent == (friday_evening + datetime.timedelta(hours=2), friday_evening + datetime.timedelta(days=1))


async def test_the_portal_page_shows_where_values_came_from_and_saves_the_form(client: AsyncClient, auth: Auth) -> None:
    await put(client, auth, "dadmin", "district-a", [{"urgency": "normal", "resolve": "P5D", "resolve_working": True}])
    await sign_in(client, "comm-a", "cstaff")
    assert "/staff/time-limits" in (await client.get("/t/comm-a/me/")).text
    page_url = "/t/comm-a/staff/time-limits"
    page = await client.get(page_url)
    assert page.status_code == 200, page.text[:500]
    assert "来自 甲区" in text_of(page)
    form = {"respond-*-urgent": "PT1H", "resolve-*-normal": "P4D", "resolve_working-*-normal": "on",
            "working_hours": "08:30-12:00, 14:30-18:00", "new_category": "", "new_urgency": "normal"}
    saved = await submit(client, page_url, page_url, form)
    assert saved.status_code == 200, saved.text[:1000]
    policy = (await client.get(url("comm-a"), headers=await auth("cstaff"))).json()
    assert cell(policy, "urgent", "respond")["duration"] == "PT1H"
    assert cell(policy, "normal", "resolve") == {"duration": "P4D", "working": True, "own": True,
                                                 "source": {"slug": "comm-a", "name": "甲社区"}}
    refused = await submit(client, page_url, page_url, {**form, "resolve-*-normal": "P9D", "respond-*-urgent": "P1M"})
    assert refused.status_code == 422
    loosened = re.search(r'id="resolve-\*-normal-error">([^<]+)<', refused.text)
    assert loosened and "甲区" in loosened.group(1), refused.text[:3000]
    assert re.search(r'id="respond-\*-urgent-error">[^<]*ISO 8601', refused.text)
    added = await submit(client, page_url, page_url, {**form, "new_category": "heating", "new_urgency": "urgent",
                                                      "new_respond": "PT30M"})
    assert added.status_code == 200
    policy = (await client.get(url("comm-a"), headers=await auth("cstaff"))).json()
    assert cell(policy, "urgent", "respond", "heating")["duration"] == "PT30M"
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(page_url)).status_code == 403


@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)
async def test_row_level_security_lets_a_tenant_read_its_ancestors_rows_and_no_others(
        database: DatabaseUnderTest, client: AsyncClient, auth: Auth) -> None:
    await put(client, auth, "dadmin", "district-a", [{"urgency": "urgent", "respond": "PT1H"}])
    await put(client, auth, "cstaff", "comm-a", [{"urgency": "urgent", "respond": "PT30M"}])
    engine = create_async_engine(database.settings.database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            ids = dict((await conn.execute(text("SELECT slug, id FROM tenant"))).all())
            paths = dict((await conn.execute(text("SELECT slug, path FROM tenant"))).all())
            await conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.tenant_path', :p, true)"),
                               {"t": str(ids["comm-b"]), "p": paths["comm-b"]})
            seen = set((await conn.execute(text("SELECT respond FROM time_limit"))).scalars())
            assert seen == {"PT1H"}  # the district's, above comm-b; never its neighbour comm-a's
        async with engine.begin() as conn:
            await conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.tenant_path', :p, true)"),
                               {"t": str(ids["district-a"]), "p": paths["district-a"]})
            assert set((await conn.execute(text("SELECT respond FROM time_limit"))).scalars()) == {"PT1H"}
            deleted = await conn.execute(text("DELETE FROM time_limit WHERE tenant_id = :a"), {"a": ids["comm-a"]})
            assert deleted.rowcount == 0  # reads may reach ancestors; writes only ever the tenant itself
    finally:
        await engine.dispose()
