"""The notification pages: the bell on every signed-in page (one query; none for visitors), the inbox across
tenants with marking read one by one or all at once, the choice of channels per kind, and their walls."""

from __future__ import annotations

import datetime
import re

import pytest
from httpx import AsyncClient
from litestar import Litestar

from core.notifications.fanout import fan_out
from core.notifications.services import KINDS
from core.portal.notifications import KIND_LABELS
from tests.conftest import Auth, http_client
from tests.helpers import BASE, accepted_concern, csrf_token, file, sign_in, submit, text_of
from tests.platform.test_query_counts import counting

pytestmark = pytest.mark.usefixtures("world")
INBOX = "/t/comm-a/notifications"
SETTINGS = "/t/comm-a/notifications/settings"
BELL_COUNT = re.compile(r'class="badge warn bell-count">(\d+)<')


def bell(text: str) -> int | None:
    """The bell's number on a page: None when the page has no bell, 0 when it shows none."""
    if 'id="bell"' not in text:
        return None
    found = BELL_COUNT.search(text)
    return int(found.group(1)) if found else 0


def unread_counts(statements: list[str]) -> list[str]:
    return [s for s in statements if "notification" in s and "read_at IS NULL" in s and "count(" in s.lower()]


async def test_an_accepted_concern_rings_the_bell_until_read(client: AsyncClient, auth: Auth) -> None:
    concern = await accepted_concern(client, auth)
    await sign_in(client, "comm-a", "resident")
    for url in ("/t/comm-a/me", "/t/comm-a/me/concerns", "/t/comm-a/results", INBOX, SETTINGS):
        page = await client.get(url)
        assert page.status_code == 200, url
        assert bell(page.text) == 1, url
        assert 'href="/t/comm-a/notifications"' in page.text
    inbox = await client.get(INBOX)
    shown = text_of(inbox)
    assert "诉求已受理" in shown and "甲社区" in shown and concern["reference"] in shown and "未读" in shown
    assert f'href="/t/comm-a/me/concerns/{concern["id"]}"' in inbox.text
    # Beijing time, to the minute: the API's UTC time, eight hours on.
    item = (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()["items"][0]
    at = datetime.datetime.fromisoformat(item["created_at"]) + datetime.timedelta(hours=8)
    assert at.strftime("%Y-%m-%d %H:%M") in shown
    nid = item["id"]
    answer = await submit(client, INBOX, f"{INBOX}/{nid}/read", {})
    assert answer.status_code == 303 and answer.headers["location"].startswith(INBOX)
    after = await client.get(INBOX)
    assert bell(after.text) == 0 and "未读" not in text_of(after).replace("没有未读", "")
    assert "已读" in text_of(after) and "诉求已受理" in text_of(after)  # read, still listed
    assert bell((await client.get("/t/comm-a/me")).text) == 0
    api = (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()
    assert api["unread"] == 0 and api["items"][0]["read_at"] is not None


async def test_marking_one_read_with_htmx_answers_the_item_and_the_bell(client: AsyncClient, auth: Auth) -> None:
    await accepted_concern(client, auth)
    await accepted_concern(client, auth)
    await sign_in(client, "comm-a", "resident")
    page = await client.get(INBOX)
    assert bell(page.text) == 2 and 'hx-post="/t/comm-a/notifications/' in page.text
    nid = (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()["items"][0]["id"]
    token = await csrf_token(client, INBOX)
    answer = await client.post(f"{INBOX}/{nid}/read", headers={"HX-Request": "true", "x-csrftoken": token})
    assert answer.status_code == 200 and "<html" not in answer.text
    assert f'id="state-{nid}"' in answer.text and "已读" in answer.text
    assert 'hx-swap-oob="true"' in answer.text and bell(answer.text) == 1  # the header's bell, out of band
    assert (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()["unread"] == 1


async def test_mark_all_read(client: AsyncClient, auth: Auth) -> None:
    for _ in range(3):
        await accepted_concern(client, auth)
    await sign_in(client, "comm-a", "resident")
    assert bell((await client.get(INBOX)).text) == 3
    answer = await submit(client, INBOX, f"{INBOX}/read", {})
    assert answer.status_code == 303
    after = await client.get(answer.headers["location"])
    assert bell(after.text) == 0 and "已全部标为已读" in text_of(after)
    assert "全部标为已读</button>" not in after.text  # nothing left to mark
    assert text_of(after).count("诉求已受理") == 3


async def test_the_inbox_pages_twenty_at_a_time_newest_first(client: AsyncClient, auth: Auth) -> None:
    titles = [f"诉求第{i}条" for i in range(21)]
    for title in titles:
        await accepted_concern_titled(client, auth, title)
    await sign_in(client, "comm-a", "resident")
    first, second = text_of(await client.get(INBOX)), text_of(await client.get(f"{INBOX}?p=2"))
    assert first.count("诉求已受理") == 20 and second.count("诉求已受理") == 1
    assert "「诉求第20条」" in first and "「诉求第0条」" in second and "「诉求第0条」" not in first
    assert "1 / 2" in first


async def accepted_concern_titled(client: AsyncClient, auth: Auth, title: str) -> None:
    concern = await file(client, await auth("resident"), {"title": title})
    triaged = await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"},
                                headers=await auth("cstaff"))
    assert triaged.status_code == 200, triaged.text


async def test_another_resident_sees_none_of_it(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await accepted_concern(client, auth)
    nid = (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()["items"][0]["id"]
    async with http_client(app) as other:
        await sign_in(other, "comm-a", "neighbour")
        inbox = await other.get(INBOX)
        assert inbox.status_code == 200 and bell(inbox.text) == 0
        assert "诉求已受理" not in inbox.text and "您还没有收到通知" in text_of(inbox)
        refused = await submit(other, INBOX, f"{INBOX}/{nid}/read", {})
        assert refused.status_code == 404  # not theirs: as if it did not exist
        assert (await submit(other, INBOX, f"{INBOX}/read", {})).status_code == 303
    api = (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()
    assert api["unread"] == 1  # neither marked the resident's message


async def test_the_inbox_is_the_persons_in_every_tenants_portal(client: AsyncClient, auth: Auth) -> None:
    """A message from 甲社区 is in the resident's inbox on 乙社区's portal too, named by its tenant."""
    await accepted_concern(client, auth)
    await sign_in(client, "comm-b", "resident")
    page = await client.get("/t/comm-b/notifications")
    assert page.status_code == 200 and bell(page.text) == 1
    assert "甲社区" in text_of(page) and "诉求已受理" in text_of(page)
    assert "/t/comm-a/me/concerns/" in page.text  # its link leads to its own tenant's page


async def test_the_bell_costs_one_query_and_visitors_none(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await accepted_concern(client, auth)
    with counting(app) as statements:
        public = await client.get("/t/comm-a/results")
    assert public.status_code == 200 and bell(public.text) is None and unread_counts(statements) == []
    await sign_in(client, "comm-a", "resident")
    await client.get("/t/comm-a/results")  # warm
    with counting(app) as statements:
        page = await client.get("/t/comm-a/results")
    assert bell(page.text) == 1 and len(unread_counts(statements)) == 1, unread_counts(statements)
    with counting(app) as statements:
        inbox = await client.get(INBOX)  # the inbox's own query has the count: the bell takes it from there
    assert bell(inbox.text) == 1 and len(unread_counts(statements)) == 1, unread_counts(statements)


async def test_staff_property_plugin_and_admin_pages_have_the_bell(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await file(client, await auth("resident"))
    await fan_out(app.state)  # staff hear of a new concern
    await sign_in(client, "comm-a", "cstaff")
    for url in ("/t/comm-a/staff/inbox", "/t/comm-a/staff/topics", "/t/comm-a/me"):
        assert bell((await client.get(url)).text) == 1, url
    await sign_in(client, "comm-a", "wuye")
    assert bell((await client.get("/t/comm-a/actions")).text) == 0
    await sign_in(client, "comm-a", "deputy2")  # a plugin's page (the liaison station's duty list)
    duty = await client.get("/t/comm-a/deputy")
    assert duty.status_code == 200 and bell(duty.text) == 0
    await sign_in(client, "district-a", "dadmin")
    dashboard = await client.get("/t/district-a/admin")
    assert dashboard.status_code == 200 and bell(dashboard.text) == 0


async def test_preferences_save_and_the_api_agrees(client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    form = await client.get(SETTINGS)
    assert form.status_code == 200
    shown = text_of(form)
    assert "我的诉求已受理" in shown and "始终开启" in shown and "每日摘要" in shown and "短信" in shown
    # The defaults: a resident hears of their concern by SMS; new concerns come in staff's daily digest.
    assert re.search(r'name="channels-concern.accepted" value="sms" checked', form.text)
    assert not re.search(r'name="channels-concern.accepted" value="email" checked', form.text)
    assert re.search(r'name="digest-concern.new" value="on" checked', form.text)
    answer = await submit(client, SETTINGS, SETTINGS, {"channels-concern.accepted": ["email", "sms"],
                                                       "channels-meeting.invited": ["sms", "email"],
                                                       "channels-meeting.rescheduled": ["sms", "email"],
                                                       "channels-meeting.cancelled": ["sms", "email"],
                                                       "digest-concern.new": "on", "digest-action.overdue_in": "on",
                                                       "digest-concern.deadline_warning": "on",
                                                       "channels-concern.supervised": ["email", "sms"],
                                                       **{f"channels-{k}": ["sms"] for k in (
                                                           "concern.rejected", "concern.resolved",
                                                           "concern.escalated", "concern.in_topic", "concern.revisit",
                                                           "concern.merged",
                                                           "topic.meeting_scheduled", "topic.result_published",
                                                           "topic.action_completed", "meeting.reminder")},
                                                       **{f"channels-{k}": ["email"] for k in (
                                                           "action.assigned", "action.due_soon", "action.overdue",
                                                           "concern.escalated_in", "follow_up.low_rating",
                                                           "concern.reopened_in",
                                                           "concern.supervised_below", "concern.auto_escalated",
                                                           "concern.extension_requested",
                                                           "concern.extension_approved",
                                                           "concern.extension_refused")}})
    assert answer.status_code == 303 and answer.headers["location"] == f"{SETTINGS}?saved=1"
    assert "已保存" in text_of(await client.get(answer.headers["location"]))
    chosen = {c["kind"]: c for c in (await client.get("/api/v1/me/notification-preferences",
                                                      headers=await auth("resident"))).json()}
    assert chosen["concern.accepted"] == {"kind": "concern.accepted", "channels": ["email", "sms"], "digest": False,
                                          "default": False}
    # Only the changed kind became a choice of the person's own; the rest still follow the defaults.
    assert [k for k, c in chosen.items() if not c["default"]] == ["concern.accepted"]
    again = await client.get(SETTINGS)
    assert re.search(r'name="channels-concern.accepted" value="email" checked', again.text)
    # A daily digest instead, nothing by SMS.
    await submit(client, SETTINGS, SETTINGS, {"digest-concern.accepted": "on"})
    chosen = {c["kind"]: c for c in (await client.get("/api/v1/me/notification-preferences",
                                                      headers=await auth("resident"))).json()}
    assert chosen["concern.accepted"]["digest"] is True and chosen["concern.accepted"]["channels"] == []


async def test_a_channel_there_is_not_is_refused_next_to_its_kind_and_nothing_saved(
        client: AsyncClient, auth: Auth) -> None:
    await sign_in(client, "comm-a", "resident")
    answer = await submit(client, SETTINGS, SETTINGS, {"channels-concern.accepted": ["email", "sms"],
                                                       "channels-concern.rejected": ["fax"]})
    assert answer.status_code == 422
    row = answer.text[answer.text.index('id="kind-concern-rejected"'):]
    row = row[:row.index("</tr>")]
    assert 'class="error" id="concern-rejected-error"' in row and "没有这个渠道：fax" in text_of(answer)
    assert 'aria-invalid="true"' in row
    chosen = (await client.get("/api/v1/me/notification-preferences", headers=await auth("resident"))).json()
    assert all(c["default"] for c in chosen)  # the valid change was not saved either


async def test_a_forged_post_without_its_csrf_token_is_refused(client: AsyncClient, auth: Auth) -> None:
    await accepted_concern(client, auth)
    await sign_in(client, "comm-a", "resident")
    await client.get(INBOX)
    assert (await client.post(f"{INBOX}/read")).status_code == 403
    assert (await client.post(SETTINGS, data={"digest-concern.accepted": "on"})).status_code == 403
    assert (await client.get("/api/v1/me/notifications", headers=await auth("resident"))).json()["unread"] == 1
    assert all(c["default"] for c in (await client.get("/api/v1/me/notification-preferences",
                                                       headers=await auth("resident"))).json())


async def test_visitors_are_sent_to_sign_in(client: AsyncClient) -> None:
    for url in (INBOX, SETTINGS):
        answer = await client.get(url)
        assert answer.status_code == 302 and answer.headers["location"] == f"/t/comm-a/login?next={url}"
    answer = await submit(client, "/t/comm-a/login", f"{INBOX}/read", {})
    assert answer.status_code == 302 and answer.headers["location"].startswith("/t/comm-a/login")


async def test_english_too(client: AsyncClient, auth: Auth) -> None:
    await accepted_concern(client, auth)
    await sign_in(client, "comm-a", "resident")
    inbox = text_of(await client.get(f"{INBOX}?lang=en"))
    assert "Inbox" in inbox and "Mark all read" in inbox and "Unread" in inbox
    settings = text_of(await client.get(SETTINGS))  # the cookie keeps the choice
    assert "My concern was accepted" in settings and "Daily digest" in settings and "Always on" in settings


def test_every_kind_has_its_label() -> None:
    assert set(KIND_LABELS) == set(KINDS)
