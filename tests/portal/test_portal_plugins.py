"""Plugins' own portal pages (hook `yishi_portal_pages`): the deputy's duty list at the liaison station and
the CPPCC member's research topics, only where the tenant enabled the plugin, for the roles allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from httpx import AsyncClient

from core.plugins import Plugins
from core.portal.messages import catalogue
from core.portal.plugin_pages import plugin_template_dirs
from tests.conftest import ROOT, Auth
from tests.helpers import BASE, CITY, LIAISON, cppcc_topic, reception, sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")


async def _item(client: AsyncClient, auth: Auth) -> dict:
    received = await reception(client, auth, deputy="deputy2", requests=1)
    return received["items"][0]


async def test_the_deputy_sees_their_duty_list_and_the_next_receptions(client: AsyncClient, auth: Auth) -> None:
    item = await _item(client, auth)
    other = (await reception(client, auth, deputy="deputy", requests=1))["items"][0]
    await sign_in(client, "comm-a", "deputy2")
    page = await client.get("/t/comm-a/deputy")
    assert page.status_code == 200, page.text[:500]
    body = text_of(page)
    assert item["reference"] in body and "诉求0" in body and "已接收" in body
    assert other["reference"] not in body  # another deputy's item is not on this list
    assert "在甲小区庭院联络站接待群众" in body  # the stations' next receptions
    assert 'name="deputy"' not in page.text  # no deputy filter for a deputy
    assert "/t/comm-a/deputy" in (await client.get("/t/comm-a/me")).text


async def test_a_note_is_recorded_from_the_form_and_an_empty_one_is_refused(client: AsyncClient, auth: Auth) -> None:
    item = await _item(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    action = f"/t/comm-a/deputy/items/{item['id']}/notes"
    empty = await submit(client, "/t/comm-a/deputy", action, {"kind": "collected_opinions", "text": "  "})
    assert empty.status_code == 422
    assert f'aria-describedby="text-{item["id"]}-error"' in empty.text and f'id="text-{item["id"]}-error"' in empty.text
    notes = (await client.get(LIAISON + "/duty-list", headers=await auth("deputy2"))).json()[0]["notes"]
    assert notes == []  # nothing written
    bad_kind = await submit(client, "/t/comm-a/deputy", action, {"kind": "dancing", "text": "走访"})
    assert bad_kind.status_code == 422 and f'id="kind-{item["id"]}-error"' in bad_kind.text
    done = await submit(client, "/t/comm-a/deputy", action, {"kind": "collected_opinions", "text": "走访12户征集意见"})
    assert done.status_code == 303 and done.headers["location"].startswith("/t/comm-a/deputy?noted=1")
    page = await client.get(done.headers["location"])
    assert "走访12户征集意见" in text_of(page) and "收集意见" in text_of(page) and 'class="notice"' in page.text
    stored = (await client.get(LIAISON + "/duty-list", headers=await auth("deputy2"))).json()[0]["notes"]
    assert [n["text"] for n in stored] == ["走访12户征集意见"]


async def test_a_deputy_cannot_note_another_deputys_item(client: AsyncClient, auth: Auth) -> None:
    other = (await reception(client, auth, deputy="deputy", requests=1))["items"][0]
    await _item(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    refused = await submit(client, "/t/comm-a/deputy", f"/t/comm-a/deputy/items/{other['id']}/notes",
                           {"kind": "other", "text": "x"})
    assert refused.status_code == 404
    notes = (await client.get(LIAISON + "/duty-list", headers=await auth("deputy"))).json()[0]["notes"]
    assert notes == []


async def test_staff_choose_a_deputy(client: AsyncClient, auth: Auth) -> None:
    item = await _item(client, auth)
    other = (await reception(client, auth, deputy="deputy", requests=1))["items"][0]
    await sign_in(client, "comm-a", "cstaff")
    everyone = text_of(await client.get("/t/comm-a/deputy"))
    assert item["reference"] in everyone and other["reference"] in everyone
    page = await client.get("/t/comm-a/deputy", params={"deputy": "deputy2"})
    assert page.status_code == 200 and 'id="deputy"' in page.text
    assert item["reference"] in text_of(page) and other["reference"] not in text_of(page)


async def test_the_duty_list_page_needs_the_plugin_the_role_and_a_sign_in(client: AsyncClient, auth: Auth) -> None:
    assert (await client.get("/t/comm-a/deputy")).status_code == 302  # signed out: sign in first
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get("/t/comm-b/deputy")).status_code == 404  # comm-b has not enabled the plugin
    await sign_in(client, "comm-a", "resident")
    assert (await client.get("/t/comm-a/deputy")).status_code == 403
    assert "/t/comm-a/deputy" not in (await client.get("/t/comm-a/me")).text


async def test_the_member_sees_their_research_topics_and_the_report(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    member = await auth("member")
    problem = await client.post(f"{CITY}/topics/{topic_id}/problems", headers=member,
                                json={"text": "维修资金使用难", "kind": "common", "aspect": "维修资金"})
    assert problem.status_code == 201, problem.text
    await sign_in(client, "city-a", "member")
    page = await client.get("/t/city-a/cppcc")
    assert page.status_code == 200, page.text[:500]
    body = text_of(page)
    assert "规范和加强小区物业管理" in body and "维修资金使用难" in body and "维修资金" in body
    detail = await client.get(f"/t/city-a/cppcc/topics/{topic_id}")
    assert detail.status_code == 200 and "维修资金使用难" in text_of(detail)
    report = await client.get(f"/t/city-a/cppcc/topics/{topic_id}/report.md")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/plain")
    assert "专题协商成果报告：规范和加强小区物业管理" in report.text
    word = await client.get(f"/t/city-a/cppcc/topics/{topic_id}/report.docx")
    assert word.status_code == 200 and word.content[:2] == b"PK"
    # Another member outside the research group sees the plan, not this topic's problem list as their own.
    await sign_in(client, "city-a", "member2")
    other = text_of(await client.get("/t/city-a/cppcc"))
    assert "规范和加强小区物业管理" in other and "维修资金使用难" not in other and "您还不是任何专题调研组的成员" in other


async def test_cppcc_pages_need_the_plugin_and_the_role(client: AsyncClient, auth: Auth) -> None:
    topic_id = await cppcc_topic(client, auth)
    assert (await client.get("/t/city-a/cppcc")).status_code == 302
    await sign_in(client, "comm-a", "resident")
    assert (await client.get("/t/city-a/cppcc")).status_code == 403
    assert (await client.get(f"/t/city-a/cppcc/topics/{topic_id}/report.md")).status_code == 403
    await sign_in(client, "comm-a", "cstaff")
    assert (await client.get("/t/comm-a/cppcc")).status_code == 404  # comm-a has not enabled it
    await sign_in(client, "city-a", "member")
    # district-b enabled it, but the topic is city-a's: the tenant wall holds.
    assert (await client.get(f"/t/district-b/cppcc/topics/{topic_id}")).status_code == 404
    assert (await client.get(f"/t/district-b/cppcc/topics/{topic_id}/report.md")).status_code == 404
    assert (await client.get(f"/t/city-a/cppcc/topics/{topic_id}")).status_code == 200


def test_plugins_contribute_portal_pages_and_templates() -> None:
    plugins = Plugins(entry_point_group=None)
    pages = plugins.contributions.portal_pages  # yishi_portal_pages
    assert {"liaison_station", "cppcc_consultation"} <= set(pages)
    assert all(c.path.startswith("/t/{slug:str}/") for cs in pages.values() for c in cs)
    dirs = plugin_template_dirs(plugins)
    assert ROOT / "plugins" / "liaison_station" / "templates" in dirs


def test_a_portal_page_outside_the_portal_prefix_is_refused() -> None:
    import sys
    import types

    from litestar import Controller

    from core.hookspecs import hookimpl

    class Loose(Controller):
        path = "/deputy"

    @hookimpl
    def yishi_portal_pages() -> list:  # type: ignore[type-arg]
        return [Loose]

    module = types.ModuleType("loose_pages")
    module.NAME = "loose_pages"  # type: ignore[attr-defined]
    module.yishi_portal_pages = yishi_portal_pages  # type: ignore[attr-defined]
    sys.modules["loose_pages"] = module
    with pytest.raises(RuntimeError, match="must start with"):
        Plugins(builtin=["loose_pages"], entry_point_group=None)


def test_every_plugin_page_string_has_its_chinese_translation() -> None:
    methods = [("templates/**.html", "jinja2.ext:babel_extract"), ("portal.py", "python")]
    found = set()
    for folder in sorted({Path(d).parent for d in plugin_template_dirs(Plugins(entry_point_group=None))}):
        for _f, _l, message, _c, _x in extract_from_dir(folder, methods, keywords={"_": None}):
            found.add(message if isinstance(message, str) else message[0])
    assert found, "no strings found in the plugins' pages"
    assert found - set(catalogue("zh_CN")) == set()


def test_every_plugin_label_shown_on_its_pages_has_its_english() -> None:
    from plugins.cppcc_consultation.models import PROBLEM_KINDS, STAKEHOLDER_GROUPS
    from plugins.liaison_station.models import DUTY_STATES
    from plugins.liaison_station.services import NOTE_KINDS
    from plugins.red_pavilion.models import SESSION_KINDS

    labels = {*DUTY_STATES.values(), *NOTE_KINDS.values(), *STAKEHOLDER_GROUPS.values(), *PROBLEM_KINDS.values(),
              *SESSION_KINDS.values()}
    assert labels - set(catalogue("en")) == set()


# --- a street's or district's merged duty list (issue 4) ----------------------------------------------------

async def _enable(client: AsyncClient, auth: Auth, slug: str, username: str) -> None:
    enabled = await client.patch(f"/api/v1/tenants/{slug}", json={"plugins": ["liaison_station"]},
                                 headers=await auth(username))
    assert enabled.status_code == 200, enabled.text


async def _comm_b_item(client: AsyncClient, auth: Auth) -> dict:
    """comm-b switches the station on, and its staff record deputy2's reception there."""
    await _enable(client, auth, "comm-b", "bstaff")
    staff = await auth("bstaff")
    site = await client.post("/api/v1/tenants/comm-b/liaison/stations", headers=staff,
                             json={"name": "乙小区楼头议事会", "kind": "building_head"})
    assert site.status_code == 201, site.text
    received = await client.post("/api/v1/tenants/comm-b/liaison/receptions", headers=staff, json={
        "station": site.json()["id"], "deputy": "deputy2", "held_at": "2026-07-21T09:30:00+08:00",
        "residents_received": 2, "requests": [{"title": "乙小区路灯不亮", "description": "9号楼前路灯坏了"}]})
    assert received.status_code == 201, received.text
    return received.json()["items"][0]


async def test_the_district_reads_a_deputys_items_in_every_community_below(client: AsyncClient, auth: Auth) -> None:
    in_a = await _item(client, auth)
    in_b = await _comm_b_item(client, auth)
    elsewhere = (await reception(client, auth, deputy="deputy", requests=1))["items"][0]
    district = "/api/v1/tenants/district-a/liaison/duty-list"
    assert (await client.get(district, headers=await auth("dadmin"))).status_code == 404  # not switched on there
    await _enable(client, auth, "district-a", "dadmin")
    merged = await client.get(district, params={"deputy": "deputy2"}, headers=await auth("dadmin"))
    assert merged.status_code == 200, merged.text
    assert {(i["reference"], i["community"]) for i in merged.json()} == {(in_a["reference"], "comm-a"),
                                                                          (in_b["reference"], "comm-b")}
    everyone = (await client.get(district, headers=await auth("dadmin"))).json()
    assert {i["id"] for i in everyone} == {in_a["id"], in_b["id"], elsewhere["id"]}
    # A community still reads only its own, and a deputy cannot read the district's list.
    own = (await client.get("/api/v1/tenants/comm-b/liaison/duty-list", headers=await auth("bstaff"))).json()
    assert [i["id"] for i in own] == [in_b["id"]]
    assert (await client.get(district, headers=await auth("deputy2"))).status_code == 403
    # The street below the district reads the same two communities.
    await _enable(client, auth, "street-a", "sstaff")
    street = (await client.get("/api/v1/tenants/street-a/liaison/duty-list", params={"deputy": "deputy2"},
                               headers=await auth("sstaff"))).json()
    assert {i["id"] for i in street} == {in_a["id"], in_b["id"]}
    # The portal page shows the merged list from above, without the note forms (notes are written below).
    await sign_in(client, "district-a", "dadmin")
    page = await client.get("/t/district-a/deputy", params={"deputy": "deputy2"})
    assert page.status_code == 200, page.text[:500]
    assert in_a["reference"] in page.text and in_b["reference"] in page.text
    assert elsewhere["reference"] not in page.text and "/notes" not in page.text


# --- the red pavilion ---------------------------------------------------------------------------------------

async def test_the_pavilion_page_shows_the_next_sessions_and_the_years_tally(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    await sign_in(client, "comm-a", "resident")
    assert (await client.get("/t/comm-a/pavilion")).status_code == 404  # not switched on yet
    await client.patch(BASE, json={"plugins": ["liaison_station", "red_pavilion"]}, headers=staff)
    venue = (await client.post(f"{BASE}/pavilion/venues", headers=staff,
                               json={"name": "红色议事亭", "party_committee": "甲社区党委"})).json()
    planned = (await client.post(f"{BASE}/pavilion/venues/{venue['id']}/monthly", json={"day": 15, "time": "19:30"},
                                 headers=staff)).json()
    await client.post(f"{BASE}/members", json={"user": "neighbour", "role": "party_member"}, headers=staff)
    held = await client.post(f"{BASE}/pavilion/sessions/{planned['id']}/held", headers=staff,
                             json={"party_members": ["neighbour"], "notes": "议"})
    assert held.status_code == 200, held.text
    page = await client.get("/t/comm-a/pavilion")
    assert page.status_code == 200, page.text[:500]
    body = text_of(page)
    assert "红色议事亭" in body and "每月一议事" in body and "甲社区党委" in body and "每月15日 19:30" in body
    assert "已召开议事会 1" in body and "党员参与人次 1" in body
    assert "Monthly on day 15 at 19:30" in text_of(await client.get("/t/comm-a/pavilion?lang=en"))
    await client.get("/t/comm-a/pavilion?lang=zh_CN")
    bad = await client.get("/t/comm-a/pavilion", params={"year": "1999"})
    assert bad.status_code == 422 and 'aria-describedby="year-error"' in bad.text and 'id="year-error"' in bad.text
    past = text_of(await client.get("/t/comm-a/pavilion", params={"year": "2020"}))
    assert "已召开议事会 0" in past
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get("/t/comm-b/pavilion")).status_code == 404  # comm-b has not switched it on
    assert (await client.get("/t/comm-a/pavilion")).status_code == 403  # no role in comm-a
    client.cookies.clear()
    assert (await client.get("/t/comm-a/pavilion")).status_code == 302  # signed out: sign in first
