"""Correcting mistakes on the portal's pages: a resident edits and withdraws their concern, staff correct its
category and place, reassign and cancel action items picked from a list; the topic page opens only the next
step's form; the inbox swaps its counts out of band and shows photo thumbnails and display names."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE, WATER, file, sign_in, submit, text_of, topic_at, upload
from tests.portal.test_portal_staff import jpeg

pytestmark = pytest.mark.usefixtures("world")
INBOX = "/t/comm-a/staff/inbox"


def open_forms(html: str) -> list[str]:
    """The step forms the topic page shows open."""
    return re.findall(r'<details class="step-form" id="form-[^"]+" data-form="([^"]+)" open>', html)


async def test_a_resident_edits_then_withdraws_their_concern_on_its_page(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "resident")
    page_url = f"/t/comm-a/me/concerns/{concern['id']}"
    shown = await client.get(page_url)
    assert 'action="/t/comm-a/me/concerns/' in shown.text and "修改我的诉求" in shown.text
    refused = await submit(client, page_url, f"{page_url}/edit", {**WATER, "title": " ", "description": "水太远了"})
    assert refused.status_code == 422 and 'id="edit-title-error"' in refused.text
    assert "水太远了" in refused.text  # nothing typed is lost
    saved = await submit(client, page_url, f"{page_url}/edit", {**WATER, "title": "北门内侧加装直饮水机"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?edited=1")
    assert (await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("resident"))).json()["title"] \
        == "北门内侧加装直饮水机"
    withdrawn = await submit(client, page_url, f"{page_url}/withdraw", {"reason": "已经解决"})
    assert withdrawn.status_code == 303
    after = await client.get(page_url)
    assert "已撤回" in text_of(after) and "修改我的诉求" not in after.text
    late = await submit(client, page_url, f"{page_url}/edit", {**WATER})
    assert late.status_code == 409 and "不能再修改" in text_of(late)
    # Another tenant's portal does not know it.
    assert (await client.get(f"/t/comm-b/me/concerns/{concern['id']}")).status_code in (403, 404)


async def test_staff_correct_the_category_on_the_concern_page_and_it_shows_in_the_timeline(
        client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    page_url = f"/t/comm-a/staff/concerns/{concern['id']}"
    refused = await submit(client, page_url, f"{page_url}/correction", {"category": "drainage", "reason": ""})
    assert refused.status_code == 422 and 'id="correct-reason-error"' in refused.text
    forged = await submit(client, page_url, f"{page_url}/correction",
                          {"category": "drainage", "reason": "分错了", "place": "not-a-place"})
    assert forged.status_code == 422 and 'id="correct-place-error"' in forged.text
    saved = await submit(client, page_url, f"{page_url}/correction", {"category": "drainage", "reason": "其实是管道堵塞"})
    assert saved.status_code == 303
    shown = text_of(await client.get(page_url))
    assert "更正了分类或地点" in shown and "其实是管道堵塞" in shown and "管道堵塞" in shown
    await sign_in(client, "comm-b", "bstaff")
    other = await submit(client, "/t/comm-b/staff/inbox", f"/t/comm-b/staff/concerns/{concern['id']}/correction",
                         {"category": "noise", "reason": "x"})
    assert other.status_code in (403, 404)


async def test_the_topic_page_opens_only_the_next_steps_form(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "cstaff")
    expected = {"drafted": ["research"], "researching": ["schedule"], "deliberated": ["publish"],
                "published": [], "executing": []}
    for state, forms in expected.items():
        topic_id, _ids = await topic_at(client, auth, state)
        html = (await client.get(f"/t/comm-a/staff/topics/{topic_id}")).text
        assert open_forms(html) == forms, (state, open_forms(html))
        assert 'id="current-step"' in html
    # A published topic with no action item yet: adding one is next.
    topic_id, _ids = await topic_at(client, auth, "deliberated")
    assert (await submit(client, f"/t/comm-a/staff/topics/{topic_id}", f"/t/comm-a/staff/topics/{topic_id}/publish",
                         {})).status_code == 303
    html = (await client.get(f"/t/comm-a/staff/topics/{topic_id}")).text
    assert open_forms(html) == ["action"]
    # The owner is picked from a list of those who can act, by display name.
    assert '<option value="wuye">甲物业' in html and 'value="resident"' not in html


async def test_staff_reassign_and_cancel_an_action_item_on_the_topic_page(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "executing")
    await sign_in(client, "comm-a", "cstaff")
    topic_url = f"/t/comm-a/staff/topics/{topic_id}"
    refused = await submit(client, topic_url, f"/t/comm-a/staff/actions/{ids['action']}/reassign",
                           {"owner_user": "cstaff", "owner_org": "", "reason": ""})
    assert refused.status_code == 422 and f'id="reassign-{ids["action"]}-reason-error"' in refused.text
    moved = await submit(client, topic_url, f"/t/comm-a/staff/actions/{ids['action']}/reassign",
                         {"owner_user": "cstaff", "owner_org": "甲社区居委会", "reason": "物业合同到期"})
    assert moved.status_code == 303
    shown = text_of(await client.get(topic_url))
    assert "执行事项已改派" in shown and "物业合同到期" in shown
    cancelled = await submit(client, topic_url, f"/t/comm-a/staff/actions/{ids['action']}/cancel",
                             {"reason": "改由街道统一采购"})
    assert cancelled.status_code == 303
    shown = text_of(await client.get(topic_url))
    assert "执行事项已取消" in shown and "改由街道统一采购" in shown
    await sign_in(client, "comm-b", "bstaff")
    other = await submit(client, "/t/comm-b/staff/inbox", f"/t/comm-b/staff/actions/{ids['action']}/cancel",
                         {"reason": "x"})
    assert other.status_code in (403, 404)


async def test_the_inbox_swaps_its_counts_after_an_htmx_triage_and_shows_thumbnails_and_names(
        client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    first, second = await file(client, resident), await file(client, resident, {"title": "路灯不亮"})
    photo = await upload(client, f"{BASE}/concerns/{first['id']}/photos", resident, jpeg())
    assert photo.status_code == 201, photo.text
    await sign_in(client, "comm-a", "cstaff")
    inbox = await client.get(INBOX)
    thumb = f'/t/comm-a/me/concerns/{first["id"]}/photos/{photo.json()["id"]}'
    assert f'<img src="{thumb}"' in inbox.text and (await client.get(thumb)).status_code == 200
    assert '<span class="filed-by">柳先生</span>' in inbox.text and ">resident<" not in inbox.text
    assert re.search(r'<span id="inbox-waiting">2</span>', inbox.text)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', inbox.text)
    assert token
    answer = await client.post(f"/t/comm-a/staff/concerns/{second['id']}/triage", headers={"HX-Request": "true"},
                               data={"action": "accept", "_csrf_token": token.group(1)})
    assert answer.status_code == 200, answer.text[:500]
    assert '<span id="inbox-waiting" hx-swap-oob="true">1</span>' in answer.text
    assert re.search(r'<div id="accepted-list" hx-swap-oob="true">.*路灯不亮', answer.text, re.S)
    # The thumbnail goes through the photo's authorization: another tenant's staff get nothing.
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get(thumb)).status_code in (403, 404)
