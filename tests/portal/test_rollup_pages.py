"""Pages that help a district instead of fighting it: its public portal adds up its communities' figures, its
administrator reaches every street's escalations from the dashboard (never another district's), a resident's
tracking page says where a taken-over concern is handled now, the front door's tree is indented by level, and the
dashboard reads dates typed the Chinese way."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from litestar import Litestar

from tests.conftest import Auth, http_client
from tests.helpers import BASE, file, sign_in, submit, text_of, topic_at

pytestmark = pytest.mark.usefixtures("world")


def figure(html: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt><dd>([^<]*)</dd>", html)
    assert found, f"no figure {label}"
    return found.group(1).strip()


async def escalated(client: AsyncClient, auth: Auth, title: str = "两个社区之间的路灯不亮") -> dict:
    concern = await file(client, await auth("resident"), {"title": title})
    answer = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                               json={"action": "escalate", "reason": "路灯归街道管"})
    assert answer.status_code == 200, answer.text
    return concern


async def test_a_districts_and_a_citys_public_figures_add_up_their_communities(client: AsyncClient,
                                                                               auth: Auth) -> None:
    await topic_at(client, auth, "deliberated")  # comm-a: one consultation held, one concern
    answer = await client.post("/api/v1/tenants/comm-b/concerns", headers=await auth("bstaff"), json={
        "title": "乙小区9号楼门禁坏了", "description": "门禁坏了一周", "category": "safety"})
    assert answer.status_code == 201, answer.text
    held = {}
    for slug in ("comm-a", "comm-b", "street-a", "district-a", "city-a", "district-b"):
        home = await client.get(f"/t/{slug}/")
        assert home.status_code == 200, slug
        held[slug] = figure(home.text, r"协商议事（次）")
        stats = (await client.get(f"/api/v1/tenants/{slug}/public/stats")).json()
        assert int(held[slug]) == stats["consultations_held"], slug
        held[slug + ":concerns"] = stats["concerns_received"]
    assert held["comm-a"] == "1" and held["comm-b"] == "0"
    assert held["street-a"] == held["district-a"] == held["city-a"] == "1" and held["district-b"] == "0"
    assert held["district-a:concerns"] == held["comm-a:concerns"] + held["comm-b:concerns"] == 2
    assert held["district-b:concerns"] == 0  # another district's communities are not added in
    district = await client.get("/t/district-a/")
    assert "甲区下辖各社区合计" in text_of(district) and "下辖各社区合计" not in text_of(await client.get("/t/comm-a/"))
    assert "13812341234" not in district.text and "柳先生" not in district.text
    rates = {slug: (await client.get(f"/api/v1/tenants/{slug}/public/rates")).json()["response"]
             for slug in ("comm-a", "comm-b", "district-a", "district-b")}
    assert rates["comm-a"]["denominator"] >= 1 and rates["district-b"]["denominator"] == 0
    for part in ("numerator", "denominator"):  # both communities' concerns, as the rates count them
        assert rates["district-a"][part] == rates["comm-a"][part] + rates["comm-b"][part]
    opendata = (await client.get("/api/v1/tenants/district-a/public/open-data/stats.json")).json()
    assert opendata["items"][-1]["consultations_held"] == 1


async def test_a_district_reaches_every_streets_escalations_and_no_other_districts(
        client: AsyncClient, auth: Auth, app: Litestar) -> None:
    concern = await escalated(client, auth)
    await sign_in(client, "district-a", "dadmin")
    dashboard = await client.get("/t/district-a/admin")
    assert dashboard.status_code == 200
    assert '<li data-tenant="street-a"><a href="/t/street-a/admin/escalations">甲街道</a>' in dashboard.text
    assert 'href="/t/district-a/admin/escalations/below"' in dashboard.text
    below = await client.get("/t/district-a/admin/escalations/below")
    assert below.status_code == 200 and "两个社区之间的路灯不亮" in below.text
    card = text_of(below)
    assert "甲街道" in card and "甲社区" in card and "路灯归街道管" in card and "13812341234" not in below.text
    link = f'/t/street-a/admin/escalations#concern-{concern["id"]}'
    assert link in below.text
    at_the_street = await client.get("/t/street-a/admin/escalations")  # the district's role applies below
    assert at_the_street.status_code == 200 and f'id="concern-{concern["id"]}"' in at_the_street.text
    taken = await submit(client, "/t/street-a/admin/escalations",
                         f"/t/street-a/admin/escalations/{concern['id']}/take-over", {})
    assert taken.status_code == 303
    assert "两个社区之间的路灯不亮" not in (await client.get("/t/district-a/admin/escalations/below")).text

    await escalated(client, auth, "另一件上报的事")
    async with http_client(app) as other:  # another district's administrator
        await sign_in(other, "district-b", "badmin")
        theirs = await other.get("/t/district-b/admin/escalations/below")
        assert theirs.status_code == 200 and "另一件上报的事" not in theirs.text and "甲街道" not in theirs.text
        assert (await other.get("/t/district-a/admin/escalations/below")).status_code == 403
        assert "甲街道" not in (await other.get("/t/district-b/admin")).text
    async with http_client(app) as community:
        await sign_in(community, "comm-a", "cstaff")
        assert (await community.get("/t/district-a/admin/escalations/below")).status_code == 403
    async with http_client(app) as stranger:
        assert (await stranger.get("/t/district-a/admin/escalations/below")).status_code == 302


async def test_after_a_take_over_the_tracking_page_names_the_new_reference_and_who_handles_it(
        client: AsyncClient, auth: Auth) -> None:
    concern = await escalated(client, auth)
    before = await client.get(f"/t/comm-a/track/{concern['tracking_code']}")
    assert before.status_code == 200 and 'id="handled-above"' not in before.text
    await sign_in(client, "street-a", "sstaff")
    taken = await submit(client, "/t/street-a/admin/escalations",
                         f"/t/street-a/admin/escalations/{concern['id']}/take-over", {})
    new_reference = re.search(r"reference=([A-Z0-9-]+)", taken.headers["location"])
    assert new_reference
    track = await client.get(f"/t/comm-a/track/{concern['tracking_code']}")
    assert track.status_code == 200
    shown = re.search(r'<dd id="handled-above">(.*?)</dd>', track.text, re.S)
    assert shown and "甲街道" in shown.group(1) and new_reference.group(1) in shown.group(1)
    assert new_reference.group(1) != concern["reference"]
    followed = re.search(r'href="(/t/street-a/track/[^"]+)"', track.text)
    assert followed, "no link to follow the matter at the street"
    there = await client.get(followed.group(1))
    assert there.status_code == 200 and new_reference.group(1) in there.text
    assert "13812341234" not in track.text and "柳先生" not in track.text


async def test_the_front_doors_tree_is_indented_by_level(client: AsyncClient) -> None:
    page = await client.get("/")
    levels = {slug: int(depth) for depth, slug in re.findall(r'data-depth="(\d+)"[^>]*><a href="/t/([^/]+)/"',
                                                             page.text)}
    assert levels["city-a"] == levels["city-b"] == 0 and levels["district-a"] == levels["district-b"] == 1
    assert levels["street-a"] == 2 and levels["comm-a"] == levels["comm-b"] == 3
    order = list(levels)
    assert order.index("city-a") < order.index("district-a") < order.index("street-a") < order.index("comm-a")


async def test_the_dashboard_reads_dates_typed_the_chinese_way_and_names_a_bad_one(client: AsyncClient) -> None:
    await sign_in(client, "district-a", "dadmin")
    typed = await client.get("/t/district-a/admin", params={"from": "2026年1月1日", "to": "2026/3/31", "month": "2026年1月"})
    assert typed.status_code == 200 and "2026-01-01 – 2026-03-31" in typed.text
    assert 'value="2026年1月1日"' in typed.text  # shown as typed
    assert 'type="date"' not in typed.text and 'type="month"' not in typed.text
    american = await client.get("/t/district-a/admin", params={"from": "01/02/2026", "to": "x" * 5000})
    assert american.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([a-z]+)-error">([^<]*)</p>', american.text))
    assert errors["from"].startswith("从：") and "2026-12-02" in errors["from"] and "to" in errors
    assert 'value="01/02/2026"' in american.text
