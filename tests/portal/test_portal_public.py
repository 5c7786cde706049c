"""The portal's public pages, sign-in, languages, the workspace hub and the tenant wall, through the test client."""

from __future__ import annotations

import dataclasses

import pytest
from httpx import AsyncClient
from icalendar import Calendar

from core.app import create_app
from core.portal.i18n import gettext_for
from core.portal.messages import missing
from tests.conftest import Auth, DatabaseUnderTest, http_client
from tests.helpers import BASE, file, sign_in, submit, text_of, topic_at

pytestmark = pytest.mark.usefixtures("world")


async def test_home_shows_the_tenant_its_figures_and_latest_results(client: AsyncClient, auth: Auth) -> None:
    await topic_at(client, auth, "published")
    page = await client.get("/t/comm-a/")
    assert page.status_code == 200
    assert "<title>" in page.text and "甲社区" in page.text
    body = text_of(page)
    assert "今年以来" in body and "协商议事（次）" in body
    assert "增设直饮水机" in body  # the latest published result
    assert "人大代表接待安排" not in body or "liaison" in page.text  # plugin blocks only when there is one


async def test_results_show_published_topics_only_with_progress_bars(client: AsyncClient, auth: Auth) -> None:
    published, ids = await topic_at(client, auth, "published")
    drafted, _ = await topic_at(client, auth, "drafted")
    listing = await client.get("/t/comm-a/results")
    assert listing.status_code == 200
    assert f"/t/comm-a/results/{published}" in listing.text and drafted not in listing.text
    detail = await client.get(f"/t/comm-a/results/{published}")
    assert detail.status_code == 200 and 'role="progressbar"' in detail.text and "安装直饮水机" in detail.text
    assert "柳先生" not in detail.text and "13812341234" not in detail.text  # never a resident's data
    assert (await client.get(f"/t/comm-a/results/{drafted}")).status_code == 404
    # The tenant wall: comm-a's result does not exist in comm-b's portal.
    assert (await client.get(f"/t/comm-b/results/{published}")).status_code == 404


async def test_the_meeting_calendar_and_its_feed(client: AsyncClient, auth: Auth) -> None:
    await topic_at(client, auth, "scheduled")
    page = await client.get("/t/comm-a/meetings")
    assert page.status_code == 200 and "红色议事亭" in page.text
    feed = await client.get("/t/comm-a/meetings.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert len(events) == 1 and "增设直饮水机" in str(events[0]["SUMMARY"])
    other = Calendar.from_ical((await client.get("/t/comm-b/meetings.ics")).content)
    assert other.walk("VEVENT") == []


async def test_following_a_concern_by_its_reference(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("grid"), {"channel": "grid_worker", "resident_name": "柳先生",
                                                      "resident_phone": "13812341234"})
    found = await client.get(f"/t/comm-a/track/{concern['tracking_code']}")
    assert found.status_code == 200 and "已提交，待受理" in text_of(found)
    assert "柳先生" not in found.text and "13812341234" not in found.text
    asked = await client.get("/t/comm-a/track", params={"reference": concern["tracking_code"].lower()})
    assert asked.status_code == 302 and asked.headers["location"].endswith(concern["tracking_code"])
    unknown = await client.get("/t/comm-a/track/JSX-2026-999999-7QKM")
    assert unknown.status_code == 404 and 'id="reference-error"' in unknown.text
    assert (await client.get(f"/t/comm-b/track/{concern['tracking_code']}")).status_code == 404


async def test_following_a_concern_in_a_topic_names_its_step_in_the_readers_language(client: AsyncClient,
                                                                                      auth: Auth) -> None:
    _topic_id, ids = await topic_at(client, auth, "published")
    code = (await client.get(f"{BASE}/concerns/{ids['concern']}", headers=await auth("cstaff"))).json()["tracking_code"]
    chinese = text_of(await client.get(f"/t/comm-a/track/{code}"))
    assert "公开结果 (已公开结果)" in chinese
    english = text_of(await client.get(f"/t/comm-a/track/{code}?lang=en"))
    en = gettext_for("en")
    assert f"{en('公开结果')} ({en('已公开结果')})" in english and "公开结果" not in english


async def test_a_completed_concern_says_so_and_links_its_public_result(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "completed")
    code = (await client.get(f"{BASE}/concerns/{ids['concern']}", headers=await auth("cstaff"))).json()["tracking_code"]
    page = await client.get(f"/t/comm-a/track/{code}")
    assert '<dd class="status">已办结</dd>' in page.text and f'href="/t/comm-a/results/{topic_id}"' in page.text


async def test_signing_in_sets_a_safe_cookie_and_opens_the_workspace(client: AsyncClient) -> None:
    refused = await submit(client, "/t/comm-a/login", "/t/comm-a/login", {"username": "resident", "password": "wrong"})
    assert refused.status_code == 401 and "用户名或密码不正确" in refused.text
    answer = await sign_in(client, "comm-a", "resident")
    cookie = answer.headers["set-cookie"].lower()
    assert "yishi_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert answer.headers["location"] == "/t/comm-a/me"
    workspace = await client.get("/t/comm-a/me")
    assert workspace.status_code == 200 and "我要反映" in workspace.text and "/staff/inbox" not in workspace.text
    out = await submit(client, "/t/comm-a/me", "/t/comm-a/logout", {})
    assert out.status_code == 303
    assert (await client.get("/t/comm-a/me")).status_code == 302


async def test_staff_see_their_tools_and_a_next_link_never_leaves_the_portal(client: AsyncClient) -> None:
    answer = await submit(client, "/t/comm-a/login", "/t/comm-a/login",
                          {"username": "cstaff", "password": "password-123", "next": "https://evil.example/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/t/comm-a/"
    workspace = await client.get("/t/comm-a/me")
    assert "/t/comm-a/staff/inbox" in workspace.text and "/t/comm-a/staff/topics" in workspace.text


async def test_a_form_without_its_csrf_token_is_refused(client: AsyncClient) -> None:
    await client.get("/t/comm-a/login")  # the cookie half of the pair is set
    answer = await client.post("/t/comm-a/login", data={"username": "resident", "password": "password-123"})
    assert answer.status_code == 403
    assert "yishi_session" not in answer.headers.get("set-cookie", "")


async def test_the_workspace_asks_for_sign_in(client: AsyncClient) -> None:
    answer = await client.get("/t/comm-a/me")
    assert answer.status_code == 302 and answer.headers["location"] == "/t/comm-a/login?next=/t/comm-a/me"


async def test_chinese_first_english_on_request_and_remembered(client: AsyncClient) -> None:
    assert "首页" in (await client.get("/t/comm-a/")).text
    english = await client.get("/t/comm-a/", params={"lang": "en"})
    assert ">Home<" in english.text and 'lang="en"' in english.text
    assert "yishi_lang=en" in english.headers["set-cookie"]
    assert ">Home<" in (await client.get("/t/comm-a/results")).text  # the cookie keeps the choice
    assert "首页" in (await client.get("/t/comm-a/", params={"lang": "zh_CN"})).text


async def test_unknown_portals_and_pages_answer_404_pages(client: AsyncClient) -> None:
    for path in ("/t/nowhere/", "/t/comm-a/no-such-page", "/t/comm-a/results/not-a-uuid"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html") and "<title>" in answer.text


async def test_the_front_door_lists_the_portals(client: AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and 'href="/t/comm-a/"' in page.text and "乙社区" in page.text


async def test_a_portal_domain_serves_each_tenant_on_its_own_host(database: DatabaseUnderTest) -> None:
    app = create_app(dataclasses.replace(database.settings, portal_domain="yishi.example.cn"))
    async with http_client(app) as client:
        home = await client.get("/", headers={"host": "comm-a.yishi.example.cn"})
        assert home.status_code == 200 and "甲社区" in home.text
        assert (await client.get("/results", headers={"host": "comm-b.yishi.example.cn"})).status_code == 200
        assert (await client.get("/", headers={"host": "nowhere.yishi.example.cn"})).status_code == 404
        api = await client.get("/api/v1/tenants/comm-a/public/stats", headers={"host": "comm-a.yishi.example.cn"})
        assert api.status_code == 200  # the API keeps its paths on every host


def test_every_ui_string_has_its_translation() -> None:
    gaps = missing()
    assert gaps == {"zh_CN": set(), "en": set()}, gaps
