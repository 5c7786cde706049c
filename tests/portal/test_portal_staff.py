"""Staff pages (triage inbox, topics board, a topic's six steps) and the action items of those who carry them out,
through the test client: only portal forms, the API to check what changed."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from httpx import AsyncClient
from litestar import Litestar
from PIL import Image

from core import clock
from tests.conftest import Auth, http_client
from tests.helpers import BASE, accepted_concern, file, sign_in, submit, text_of, topic_at

pytestmark = pytest.mark.usefixtures("world")
INBOX = "/t/comm-a/staff/inbox"
TODAY = clock.today()


async def status_of(client: AsyncClient, auth: Auth, concern_id: str) -> str:
    response = await client.get(f"{BASE}/concerns/{concern_id}", headers=await auth("cstaff"))
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def topic_state(client: AsyncClient, auth: Auth, topic_id: str) -> dict:
    response = await client.get(f"{BASE}/topics/{topic_id}", headers=await auth("cstaff"))
    assert response.status_code == 200, response.text
    return response.json()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


async def test_staff_accept_a_concern_from_the_inbox(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    other = await file(client, await auth("resident"), {"title": "楼道灯坏了"})
    await sign_in(client, "comm-a", "cstaff")
    inbox = await client.get(INBOX)
    assert inbox.status_code == 200 and "<title>" in inbox.text
    assert f'id="concern-{concern["id"]}"' in inbox.text and concern["reference"] in inbox.text
    answer = await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage", {"action": "accept"})
    assert answer.status_code == 303 and answer.headers["location"].startswith(INBOX)
    assert await status_of(client, auth, concern["id"]) == "accepted"
    after = await client.get(answer.headers["location"])
    assert f'id="concern-{concern["id"]}"' not in after.text  # it left the inbox …
    assert f'id="pick-{concern["id"]}"' in after.text  # … and waits for a topic
    assert "已处理" in text_of(after)
    # With htmx, the answer is the updated row only.
    token = re.search(r'name="_csrf_token" value="([^"]+)"', after.text).group(1)  # type: ignore[union-attr]
    row = await client.post(f"/t/comm-a/staff/concerns/{other['id']}/triage", headers={"HX-Request": "true"},
                            data={"action": "resolve_directly", "note": "已更换灯泡", "_csrf_token": token})
    assert row.status_code == 200 and "<html" not in row.text and "已直接办结" in row.text
    assert await status_of(client, auth, other["id"]) == "resolved"


async def test_rejecting_without_a_reason_says_so_next_to_the_field(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    answer = await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage",
                          {"action": "reject", "reason": "  "})
    assert answer.status_code == 422
    field = f"reject-reason-{concern['id']}"
    assert f'id="{field}-error"' in answer.text and "理由不能为空" in answer.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="{field}-error"', answer.text)
    assert await status_of(client, auth, concern["id"]) == "submitted"


async def test_the_six_steps_through_portal_forms_only(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    accepted = await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage", {"action": "accept"})
    assert accepted.status_code == 303
    # Step 2: a topic from the accepted concern; a topic without a title is refused, nothing written.
    refused = await submit(client, INBOX, "/t/comm-a/staff/topics", {"title": "", "concern_ids": [concern["id"]]})
    assert refused.status_code == 422 and 'id="title-error"' in refused.text
    assert await status_of(client, auth, concern["id"]) == "accepted"
    made = await submit(client, INBOX, "/t/comm-a/staff/topics",
                        {"title": "增设直饮水机", "description": "北侧取水难", "concern_ids": [concern["id"]]})
    assert made.status_code == 303, made.text[:500]
    topic_url = made.headers["location"].split("?")[0]
    topic_id = topic_url.rsplit("/", 1)[1]
    assert await status_of(client, auth, concern["id"]) == "in_topic"
    page = await client.get(topic_url)
    assert page.status_code == 200 and "增设直饮水机" in page.text and concern["reference"] in page.text
    assert f"/staff/topics/{topic_id}/research" in page.text and f"/staff/topics/{topic_id}/publish" not in page.text
    # Step 3: research.
    done = await submit(client, topic_url, f"{topic_url}/research", {
        "date": f"{TODAY.year}年{TODAY.month}月{TODAY.day}日", "participants": "党员, 居民代表，物业",
        "findings": "北侧无取水点，楼间空地有电源"},
        files=[("photos", ("site.jpg", jpeg(), "image/jpeg"))])
    assert done.status_code == 303, done.text[:500]
    research = (await topic_state(client, auth, topic_id))["research"][0]
    assert research["participants"] == ["党员", "居民代表", "物业"] and len(research["photos"]) == 1
    assert research["date"] == TODAY.isoformat()
    # Step 4: a meeting (a bad time is refused next to its field), minutes, decision.
    bad = await submit(client, topic_url, f"{topic_url}/meetings", {
        "mechanism": "on_demand", "venue": "红色议事亭", "starts_at": "soon", "roles": ["party_member"]})
    assert bad.status_code == 422 and 'id="schedule-starts_at-error"' in bad.text and 'value="红色议事亭"' in bad.text
    said = re.search(r'<p class="error" id="schedule-starts_at-error">([^<]*)</p>', bad.text)
    assert said and said.group(1).startswith("开始时间：") and "2026-12-02 14:30" in said.group(1)
    assert 'name="starts_at" value="soon"' in bad.text and 'type="datetime-local"' not in bad.text
    done = await submit(client, topic_url, f"{topic_url}/meetings", {
        "mechanism": "on_demand", "venue": "红色议事亭", "starts_at": "2026年7月28日 15:00",
        "roles": ["party_member", "resident_rep", "property_company"], "orgs": "宁夏鑫盛物业"})
    assert done.status_code == 303, done.text[:500]
    detail = await topic_state(client, auth, topic_id)
    meeting = detail["meetings"][0]
    assert detail["topic"]["state"] == "scheduled" and meeting["starts_at"].startswith("2026-07-28T07:00:00")
    assert meeting["invitees"]["roles"] == ["party_member", "resident_rep", "property_company"]
    assert meeting["invitees"]["orgs"] == ["宁夏鑫盛物业"]
    page = await client.get(topic_url)
    assert f"/staff/meetings/{meeting['id']}/minutes" in page.text
    done = await submit(client, topic_url, f"/t/comm-a/staff/meetings/{meeting['id']}/minutes", {
        "attendance": "party_member: 5\nresident_rep：6", "minutes": "讨论设备选型、位置规划、现场安装",
        "opinions": "resident_rep: 装在北门内侧\n物业: 五天内安装"})
    assert done.status_code == 303, done.text[:500]
    held = (await topic_state(client, auth, topic_id))["meetings"][0]
    assert held["held"] and held["attendance"] == {"party_member": 5, "resident_rep": 6}
    assert held["opinions"][1] == {"group": "物业", "text": "五天内安装"}
    done = await submit(client, topic_url, f"/t/comm-a/staff/meetings/{meeting['id']}/decision", {
        "text": "5天内在小区北侧增设直饮水机一台", "method": "consensus"})
    assert done.status_code == 303, done.text[:500]
    assert (await topic_state(client, auth, topic_id))["topic"]["state"] == "deliberated"
    # Step 5: publish, then an action item for the property company.
    done = await submit(client, topic_url, f"{topic_url}/publish", {})
    assert done.status_code == 303, done.text[:500]
    page = await client.get(topic_url)
    assert f"{topic_url}/withdraw" not in page.text and f"{topic_url}/actions" in page.text
    bad = await submit(client, topic_url, f"{topic_url}/actions", {
        "title": "安装直饮水机", "owner_org": "宁夏鑫盛物业", "owner_user": "wuye", "due_date": "12/31/2030"})
    said = re.search(r'<p class="error" id="action-due_date-error">([^<]*)</p>', bad.text)
    assert bad.status_code == 422 and said and said.group(1).startswith("完成期限：")
    assert 'value="12/31/2030"' in bad.text and 'value="安装直饮水机"' in bad.text
    due = TODAY + datetime.timedelta(days=5)
    done = await submit(client, topic_url, f"{topic_url}/actions", {
        "title": "安装直饮水机", "owner_org": "宁夏鑫盛物业", "owner_user": "wuye", "due_date": due.strftime("%Y/%m/%d")})
    assert done.status_code == 303, done.text[:500]
    action_id = (await topic_state(client, auth, topic_id))["actions"][0]["id"]
    assert (await topic_state(client, auth, topic_id))["actions"][0]["due_date"] == due.isoformat()
    # Step 6: the property company reports progress and completes it.
    await sign_in(client, "comm-a", "wuye")
    done = await submit(client, "/t/comm-a/actions", f"/t/comm-a/actions/{action_id}/progress",
                        {"percent": "60", "note": "设备到场"})
    assert done.status_code == 303, done.text[:500]
    done = await submit(client, "/t/comm-a/actions", f"/t/comm-a/actions/{action_id}/complete", {})
    assert done.status_code == 303, done.text[:500]
    detail = await topic_state(client, auth, topic_id)
    assert detail["topic"]["state"] == "completed" and detail["actions"][0]["percent"] == 100
    result = await client.get(f"/t/comm-a/results/{topic_id}")
    assert result.status_code == 200 and "安装直饮水机" in result.text
    assert 'role="progressbar" aria-valuenow="100"' in result.text
    # The staff see the whole run on the topic page and the board.
    await sign_in(client, "comm-a", "cstaff")
    page = await client.get(topic_url)
    body = text_of(page)
    for label in ("拟定议题", "记录议前调研", "安排协商会", "记录会议纪要", "记录协商结果", "公开结果", "执行事项办结"):
        assert label in body, label
    board = await client.get("/t/comm-a/staff/topics")
    assert board.status_code == 200 and f"/t/comm-a/staff/topics/{topic_id}" in board.text


async def test_the_board_puts_overdue_topics_first_and_folds_withdrawn_ones(client: AsyncClient, auth: Auth) -> None:
    drafted, _ = await topic_at(client, auth, "drafted")
    staff = await auth("cstaff")
    await client.post(f"{BASE}/topics/{drafted}/withdraw", json={"reason": "重复议题"}, headers=staff)
    executing, _ = await topic_at(client, auth, "executing")
    await sign_in(client, "comm-a", "cstaff")
    board = await client.get("/t/comm-a/staff/topics")
    assert board.status_code == 200
    folded = board.text.split("<details", 1)[1]
    assert drafted in folded and "重复议题" in folded
    assert executing in board.text.split("<details", 1)[0]
    assert "逾期的执行事项" not in board.text  # nothing is overdue yet
    english = await client.get(f"/t/comm-a/staff/topics/{executing}", params={"lang": "en"})
    assert english.status_code == 200 and "Add an action item" in english.text and "Being carried out" in english.text


async def test_who_may_open_the_staff_pages(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "drafted")
    signed_out = await client.get(INBOX)
    assert signed_out.status_code in (302, 303) and "/t/comm-a/login" in signed_out.headers["location"]
    await sign_in(client, "comm-a", "resident")
    for url in (INBOX, "/t/comm-a/staff/topics", f"/t/comm-a/staff/topics/{topic_id}", "/t/comm-a/actions"):
        assert (await client.get(url)).status_code == 403, url
    # The tenant wall: comm-a's topic does not exist in comm-b, even for comm-b's staff.
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get("/t/comm-b/staff/topics")).status_code == 200
    assert (await client.get(f"/t/comm-b/staff/topics/{topic_id}")).status_code == 404
    assert (await client.get("/t/comm-b/staff/topics/not-a-topic")).status_code == 404
    # comm-b's staff have no role in comm-a.
    assert (await client.get(f"/t/comm-a/staff/topics/{topic_id}")).status_code == 403
    refused = await submit(client, "/t/comm-b/staff/inbox", f"/t/comm-b/staff/topics/{topic_id}/withdraw",
                           {"reason": "不是我们的"})
    assert refused.status_code == 404
    assert (await topic_state(client, auth, topic_id))["topic"]["state"] == "drafted"


async def test_the_property_company_reports_progress_with_a_photo(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    await sign_in(client, "comm-a", "wuye")
    page = await client.get("/t/comm-a/actions")
    assert page.status_code == 200 and "安装直饮水机" in page.text and "增设直饮水机" in page.text
    action = f"/t/comm-a/actions/{ids['action']}/progress"
    bad = await submit(client, "/t/comm-a/actions", action, {"percent": "150", "note": "太快了"})
    field = f"percent-{ids['action']}"
    assert bad.status_code == 422 and f'id="{field}-error"' in bad.text and "0–100" in bad.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', bad.text) and "太快了" in bad.text
    detail = await topic_state(client, auth, topic_id)
    assert detail["actions"][0]["progress"] == [] and detail["topic"]["state"] == "published"
    done = await submit(client, "/t/comm-a/actions", action, {"percent": "60", "note": "设备到场"},
                        files=[("photos", ("site.jpg", jpeg(), "image/jpeg"))])
    assert done.status_code == 303, done.text[:500]
    detail = await topic_state(client, auth, topic_id)
    report = detail["actions"][0]["progress"][0]
    assert report["percent"] == 60 and len(report["photos"]) == 1 and detail["topic"]["state"] == "executing"
    listing = await client.get("/t/comm-a/actions")
    assert "设备到场" in listing.text
    photo_url = f"/t/comm-a/photos/{report['photos'][0]}"
    assert f'<img src="{photo_url}"' in listing.text
    shown = await client.get(photo_url)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg" and shown.content[:2] == b"\xff\xd8"
    # Not an image: refused next to the photos field, and the report is not written either.
    refused = await submit(client, "/t/comm-a/actions", action, {"percent": "70"},
                           files=[("photos", ("notes.jpg", b"not an image", "image/jpeg"))])
    assert refused.status_code == 422 and f'id="photos-{ids["action"]}-error"' in refused.text
    assert len((await topic_state(client, auth, topic_id))["actions"][0]["progress"]) == 1


async def test_triage_refusals_with_htmx_and_across_the_tenant_wall(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', (await client.get(INBOX)).text).group(1)  # type: ignore[union-attr]
    row = await client.post(f"/t/comm-a/staff/concerns/{concern['id']}/triage", headers={"HX-Request": "true"},
                            data={"action": "escalate", "reason": "", "_csrf_token": token})
    field = f"escalate-reason-{concern['id']}"
    assert row.status_code == 422 and "<html" not in row.text and f'id="{field}-error"' in row.text
    assert await status_of(client, auth, concern["id"]) == "submitted"
    # Already triaged by someone else: the page says so although the row has left the inbox.
    await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"}, headers=await auth("cstaff"))
    late = await submit(client, INBOX, f"/t/comm-a/staff/concerns/{concern['id']}/triage", {"action": "accept"})
    assert late.status_code == 409 and "不能受理" in late.text
    # comm-b's staff cannot reach comm-a's concern through their own portal.
    await sign_in(client, "comm-b", "bstaff")
    walled = await submit(client, "/t/comm-b/staff/inbox", f"/t/comm-b/staff/concerns/{concern['id']}/triage",
                          {"action": "reject", "reason": "不是本社区"})
    assert walled.status_code == 404
    assert await status_of(client, auth, concern["id"]) == "accepted"


async def test_a_department_above_sees_only_its_own_action_items(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    added = await client.post(f"{BASE}/topics/{topic_id}/actions", headers=await auth("cstaff"), json={
        "title": "硬化绿化带拓宽道路", "owner_org": "甲区住建局", "owner_user": "zhujian",
        "due_date": (TODAY + datetime.timedelta(days=10)).isoformat()})
    assert added.status_code == 201, added.text
    await sign_in(client, "comm-a", "zhujian")
    page = await client.get("/t/comm-a/actions")
    assert page.status_code == 200 and "硬化绿化带拓宽道路" in page.text
    assert "安装直饮水机" not in page.text  # the property company's item is not theirs
    assert f"/t/comm-a/actions/{ids['action']}/progress" not in page.text
    refused = await submit(client, "/t/comm-a/actions", f"/t/comm-a/actions/{ids['action']}/progress", {"percent": "50"})
    assert refused.status_code == 404
    # Staff see every item of the community.
    await sign_in(client, "comm-a", "cstaff")
    page = await client.get("/t/comm-a/actions")
    assert "硬化绿化带拓宽道路" in page.text and "安装直饮水机" in page.text


async def test_overdue_items_come_first_and_are_flagged(client: AsyncClient, auth: Auth) -> None:
    on_time, _ = await topic_at(client, auth, "drafted")
    late, ids = await topic_at(client, auth, "published")
    await client.post(f"{BASE}/topics/{on_time}/withdraw", json={"reason": "并入其他议题"}, headers=await auth("cstaff"))
    other, _ = await topic_at(client, auth, "published")  # its item is due in 5 days too: both late
    staff = await auth("cstaff")
    newest, _ = await topic_at(client, auth, "deliberated")  # the newest, with an item due in 60 days
    assert (await client.post(f"{BASE}/topics/{newest}/publish", headers=staff)).status_code == 200
    assert (await client.post(f"{BASE}/topics/{newest}/actions", headers=staff, json={
        "title": "回访居民", "owner_org": "甲社区", "due_date": (TODAY + datetime.timedelta(days=60)).isoformat()})
    ).status_code == 201
    with clock.frozen(clock.now() + datetime.timedelta(days=30)):
        await sign_in(client, "comm-a", "cstaff")
        board = await client.get("/t/comm-a/staff/topics")
        assert board.status_code == 200 and "逾期的执行事项" in board.text
        column = board.text.split('id="col-5"', 1)[1].split("</section>", 1)[0]
        assert column.count('class="late"') == 2 and column.count("已逾期") == 2
        assert column.index(late) < column.index(newest) and column.index(other) < column.index(newest)
        await sign_in(client, "comm-a", "wuye")
        page = await client.get("/t/comm-a/actions")
        assert page.status_code == 200 and page.text.count('<span class="badge warn">已逾期') == 2


async def test_a_resident_survey_is_recorded_as_the_pre_meeting_research(client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "drafted")
    await sign_in(client, "comm-a", "cstaff")
    topic_url = f"/t/comm-a/staff/topics/{topic_id}"
    # One option only: refused next to the answers field, nothing recorded, still drafted.
    refused = await submit(client, topic_url, f"{topic_url}/survey", {
        "date": TODAY.isoformat(), "question": "直饮水机装在哪里？", "results": "北门内侧: 31"})
    assert refused.status_code == 422 and 'id="survey-results-error"' in refused.text
    assert (await topic_state(client, auth, topic_id))["topic"]["state"] == "drafted"
    done = await submit(client, topic_url, f"{topic_url}/survey", {
        "date": TODAY.isoformat(), "question": "直饮水机装在哪里？", "results": "北门内侧: 31\n西侧空地：9",
        "findings": "多数居民选北门内侧"})
    assert done.status_code == 303
    topic = await topic_state(client, auth, topic_id)
    assert topic["topic"]["state"] == "researching"
    survey = topic["research"][0]
    assert survey["kind"] == "survey" and survey["counts"] == {"北门内侧": 31, "西侧空地": 9}
    assert "北门内侧: 31" in text_of(await client.get(topic_url))


async def test_the_inbox_comes_a_page_at_a_time(client: AsyncClient, auth: Auth,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.portal.staff.INBOX_PER_PAGE", 2)
    concerns = [await file(client, await auth("resident"), {"title": f"第{n}件事"}) for n in range(3)]
    await sign_in(client, "comm-a", "cstaff")
    first, second = await client.get(INBOX), await client.get(f"{INBOX}?p=2")
    shown = [[c["id"] for c in concerns if f'id="concern-{c["id"]}"' in page.text] for page in (first, second)]
    assert shown == [[c["id"] for c in concerns[:2]], [concerns[2]["id"]]]  # oldest first
    assert f'href="{INBOX}?p=2" rel="next"' in first.text and "3" in text_of(first)
    assert (await client.get(f"{INBOX}?p=0")).text.count('class="concern') == first.text.count('class="concern')
    mistyped = await client.get(f"{INBOX}?p=two")
    assert mistyped.status_code == 400 and "<title>" in mistyped.text  # a page saying so, not a traceback
    # Triage from the second page comes back to it (its forms say which page they are on; page 1's need not).
    assert f'action="/t/comm-a/staff/concerns/{concerns[2]["id"]}/triage?p=2"' in second.text
    assert f'action="/t/comm-a/staff/concerns/{concerns[0]["id"]}/triage"' in first.text
    answer = await submit(client, f"{INBOX}?p=2", f"/t/comm-a/staff/concerns/{concerns[2]['id']}/triage?p=2",
                          {"action": "accept"})
    assert answer.status_code == 303 and answer.headers["location"].endswith("p=2")


async def test_workflow_photos_are_shown_to_whoever_may_see_them_and_no_one_else(
        client: AsyncClient, auth: Auth, app: Litestar) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    progress = await client.post(f"{BASE}/actions/{ids['action']}/progress", headers=await auth("wuye"),
                                 json={"percent": 30, "note": "开工"})
    assert progress.status_code == 201, progress.text
    added = await client.post(f"{BASE}/actions/{ids['action']}/progress/{progress.json()['id']}/photos",
                              headers=await auth("wuye"), files={"file": ("site.jpg", jpeg(), "image/jpeg")})
    assert added.status_code == 201, added.text
    url = f"/t/comm-a/photos/{added.json()['id']}"
    expected = {"cstaff": ("comm-a", 200), "wuye": ("comm-a", 200),  # staff, and the item's owner
                "zhujian": ("comm-a", 404),  # carries out other items, not this one
                "bstaff": ("comm-b", 404)}  # another community's staff, through their own portal
    for username, (slug, status) in expected.items():
        async with http_client(app) as browser:
            await sign_in(browser, slug, username)
            answer = await browser.get(url.replace("comm-a", slug))
            assert answer.status_code == status, (username, answer.status_code)
    async with http_client(app) as stranger:
        assert (await stranger.get(url)).status_code in (302, 303)  # signed out: to the sign-in page
    # A site-visit photo shows on the topic's staff page, and only readers of topics may open it.
    research = (await topic_state(client, auth, topic_id))["research"][0]["id"]
    visit = await client.post(f"{BASE}/topics/{topic_id}/research/{research}/photos", headers=await auth("cstaff"),
                              files={"file": ("visit.jpg", jpeg(), "image/jpeg")})
    assert visit.status_code == 201, visit.text
    visit_url = f"/t/comm-a/photos/{visit.json()['id']}"
    await sign_in(client, "comm-a", "cstaff")
    assert f'<img src="{visit_url}"' in (await client.get(f"/t/comm-a/staff/topics/{topic_id}")).text
    assert (await client.get(visit_url)).status_code == 200
    await sign_in(client, "comm-a", "wuye")
    assert (await client.get(visit_url)).status_code == 404


async def test_accepted_concerns_waiting_for_a_topic_are_filtered_by_the_database(client: AsyncClient,
                                                                                 auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "drafted")
    waiting = await accepted_concern(client, auth)
    staff = await auth("cstaff")
    free = await client.get(f"{BASE}/concerns", params={"status": "accepted", "in_topic": "false"}, headers=staff)
    taken = await client.get(f"{BASE}/concerns", params={"in_topic": "true"}, headers=staff)
    assert [c["id"] for c in free.json()["items"]] == [waiting["id"]]
    assert free.json()["total"] == 1 and taken.json()["total"] == 1
    assert taken.json()["items"][0]["topic"] == topic_id
    bad = await client.get(f"{BASE}/concerns", params={"in_topic": "maybe"}, headers=staff)
    assert bad.status_code == 400 and "in_topic" in bad.text


async def test_action_items_come_open_and_soonest_due_first_a_page_at_a_time(
        client: AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.portal.staff.ACTIONS_PER_PAGE", 1)
    topic_id, _ = await topic_at(client, auth, "published")
    sooner = await client.post(f"{BASE}/topics/{topic_id}/actions", headers=await auth("cstaff"), json={
        "title": "先清理楼间空地", "owner_org": "宁夏鑫盛物业", "owner_user": "wuye",
        "due_date": (TODAY + datetime.timedelta(days=1)).isoformat()})
    assert sooner.status_code == 201, sooner.text
    await sign_in(client, "comm-a", "wuye")
    first, second = await client.get("/t/comm-a/actions"), await client.get("/t/comm-a/actions?p=2")
    assert "先清理楼间空地" in first.text and "安装直饮水机" not in first.text
    assert "安装直饮水机" in second.text and 'href="/t/comm-a/actions?p=1" rel="prev"' in second.text
    assert f"/actions/{sooner.json()['id']}/complete\"" in first.text and "/complete?p=2\"" in second.text
    # Completing the sooner item sends it after the open one.
    done = await submit(client, "/t/comm-a/actions", f"/t/comm-a/actions/{sooner.json()['id']}/complete", {})
    assert done.status_code == 303 and done.headers["location"].endswith("p=1")
    assert "安装直饮水机" in (await client.get("/t/comm-a/actions")).text


async def test_the_board_shows_the_latest_closed_topics_and_says_when_it_leaves_some_out(
        client: AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.portal.staff.CLOSED_SHOWN", 1)
    monkeypatch.setattr("core.portal.staff.OPEN_SHOWN", 1)
    older_open, _ = await topic_at(client, auth, "drafted")
    first, _ = await topic_at(client, auth, "completed")
    second, _ = await topic_at(client, auth, "completed")
    still_open, _ = await topic_at(client, auth, "drafted")
    await sign_in(client, "comm-a", "cstaff")
    board = (await client.get("/t/comm-a/staff/topics")).text
    completed = board.split('id="col-6"', 1)[1].split("</section>", 1)[0]
    assert second in completed and first not in completed  # the latest one; the older is on the results page
    assert "(2)" in completed and "/t/comm-a/results" in completed
    assert still_open in board.split('id="col-1"', 1)[1].split("</section>", 1)[0]
    assert older_open not in board and "2 open topics" in text_of(await client.get("/t/comm-a/staff/topics?lang=en"))


async def test_no_step_form_reaches_another_communitys_topic_and_a_mistyped_id_is_not_found(
        client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "scheduled")
    before = await topic_state(client, auth, topic_id)
    day = TODAY.isoformat()
    forms = {
        f"topics/{topic_id}/research": {"date": day, "participants": "党员", "findings": "看过了"},
        f"topics/{topic_id}/survey": {"date": day, "question": "装哪里？", "results": "北: 3\n南: 2"},
        f"topics/{topic_id}/meetings": {"mechanism": "on_demand", "venue": "议事亭", "starts_at": "2030-01-05T19:30"},
        f"topics/{topic_id}/actions": {"title": "装灯", "owner_org": "物业", "due_date": "2030-01-31"},
        f"topics/{topic_id}/publish": {},
        f"topics/{topic_id}/withdraw": {"reason": "重复"},
        f"meetings/{ids['meeting']}/minutes": {"minutes": "同意", "attendance": "党员: 5"},
        f"meetings/{ids['meeting']}/decision": {"text": "装灯", "method": "consensus"},
        f"meetings/{ids['meeting']}/reschedule": {"starts_at": "2030-01-06T19:30", "reason": "改期"},
        f"meetings/{ids['meeting']}/cancel": {"reason": "不开了"},
    }
    await sign_in(client, "comm-b", "bstaff")
    for path, data in forms.items():
        answer = await submit(client, "/t/comm-b/staff/inbox", f"/t/comm-b/staff/{path}", data)
        assert answer.status_code == 404, (path, answer.status_code)
    await sign_in(client, "comm-a", "cstaff")
    for path, data in forms.items():
        mistyped = path.replace(topic_id, "not-a-topic").replace(ids["meeting"], "not-a-meeting")
        answer = await submit(client, INBOX, f"/t/comm-a/staff/{mistyped}", data)
        assert answer.status_code == 404, (mistyped, answer.status_code)
    assert await topic_state(client, auth, topic_id) == before  # nothing was written
    assert (await client.get("/t/comm-a/photos/not-a-photo")).status_code == 404


async def test_staff_reschedule_and_cancel_a_meeting_that_has_not_started(client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "researching")
    starts = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7)
    meeting = (await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=await auth("cstaff"), json={
        "mechanism": "monthly", "venue": "红色议事亭", "starts_at": starts.isoformat()})).json()
    await sign_in(client, "comm-a", "cstaff")
    topic_url = f"/t/comm-a/staff/topics/{topic_id}"
    meeting_url = f"/t/comm-a/staff/meetings/{meeting['id']}"
    page = await client.get(topic_url)
    assert f"{meeting_url}/reschedule" in page.text and f"{meeting_url}/cancel" in page.text
    assert f"{meeting_url}/minutes" not in page.text and "会议开始后才能记录纪要" in text_of(page)
    later = (starts + datetime.timedelta(days=2)).astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    refused = await submit(client, topic_url, f"{meeting_url}/reschedule",
                           {"starts_at": later.strftime("%Y-%m-%dT%H:%M"), "reason": " "})
    assert refused.status_code == 422 and f'id="reschedule-{meeting["id"]}-reason-error"' in refused.text
    done = await submit(client, topic_url, f"{meeting_url}/reschedule",
                        {"starts_at": later.strftime("%Y-%m-%d %H:%M"), "reason": "与社区活动冲突"})
    assert done.status_code == 303, done.text[:500]
    moved = (await topic_state(client, auth, topic_id))["meetings"][0]
    assert datetime.datetime.fromisoformat(moved["starts_at"]) == later.replace(second=0, microsecond=0)
    refused = await submit(client, topic_url, f"{meeting_url}/cancel", {"reason": ""})
    assert refused.status_code == 422 and f'id="cancel-{meeting["id"]}-reason-error"' in refused.text
    done = await submit(client, topic_url, f"{meeting_url}/cancel", {"reason": "主要参会单位无法到场"})
    assert done.status_code == 303, done.text[:500]
    detail = await topic_state(client, auth, topic_id)
    assert detail["topic"]["state"] == "researching" and detail["meetings"][0]["cancelled_at"]
    page = text_of(await client.get(topic_url))
    assert "已取消" in page and "主要参会单位无法到场" in page and "协商会取消" in page
    public = text_of(await client.get("/t/comm-a/meetings"))
    assert "已取消" in public


async def test_the_board_shows_open_follow_ups_and_staff_close_them_on_the_topic_page(
        client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "completed")
    await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 1, "comment": "水压太低"},
                      headers=await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    board = await client.get("/t/comm-a/staff/topics")
    follow_ups = board.text.split('id="follow-ups-heading"', 1)[1].split("</section>", 1)[0]
    assert f"/staff/topics/{topic_id}" in follow_ups and "居民评价偏低" in text_of(board)
    completed = board.text.split('id="col-6"', 1)[1].split("</section>", 1)[0]
    assert topic_id in completed and "回访" in completed  # still completed, and marked
    topic_url = f"/t/comm-a/staff/topics/{topic_id}"
    follow_up = (await topic_state(client, auth, topic_id))["follow_ups"][0]
    page = await client.get(topic_url)
    assert "水压太低" in page.text and f"/staff/follow-ups/{follow_up['id']}/close" in page.text
    close = f"/t/comm-a/staff/follow-ups/{follow_up['id']}/close"
    refused = await submit(client, topic_url, close, {"note": " "})
    assert refused.status_code == 422 and f'id="follow_up-{follow_up["id"]}-note-error"' in refused.text
    done = await submit(client, topic_url, close, {"note": "已上门回访，物业调高了水压"})
    assert done.status_code == 303, done.text[:500]
    assert (await topic_state(client, auth, topic_id))["follow_ups"][0]["status"] == "closed"
    assert 'id="follow-ups-heading"' not in (await client.get("/t/comm-a/staff/topics")).text
    assert "已上门回访，物业调高了水压" in text_of(await client.get(topic_url))
