"""The deputy's portal pages at the liaison station: recording a reception on the form (each request onto the
duty list or filed as a concern in its community), refusals that name each field and keep what was typed,
an item's updates as events in its timeline, the schedule, and a street's or district's list a page at a time."""

from __future__ import annotations

import re
import uuid

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core.events import WorkflowEvent
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, LIAISON, reception, sign_in, station, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
PHONE = "13712345678"
NEW = "/t/comm-a/deputy/receptions/new"


def _form(site: str, **extra: str) -> dict[str, str]:
    return {"station": site, "held_at": "2026年7月20日 9:30", "residents_received": "2", "visitor_name": "王阿姨",
            "visitor_phone": PHONE,
            "requests-0-title": "楼道灯坏了", "requests-0-description": "3单元楼道灯坏了一个月",
            "requests-0-category": "other", "requests-0-route": "duty_list",
            "requests-1-title": "垃圾桶满溢", "requests-1-description": "东门垃圾桶天天满溢",
            "requests-1-category": "environment", "requests-1-route": "concern", **extra}


async def _enable(client: AsyncClient, auth: Auth, slug: str, username: str) -> None:
    enabled = await client.patch(f"/api/v1/tenants/{slug}", json={"plugins": ["liaison_station"]},
                                 headers=await auth(username))
    assert enabled.status_code == 200, enabled.text


async def _concerns(client: AsyncClient, auth: Auth, slug: str, staff: str) -> list[dict]:
    answer = await client.get(f"/api/v1/tenants/{slug}/concerns", headers=await auth(staff))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_a_reception_puts_one_request_on_the_duty_list_and_files_the_other(client: AsyncClient,
                                                                                   auth: Auth) -> None:
    site = await station(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    form = await client.get(NEW)
    assert form.status_code == 200 and 'id="requests-1-title"' in form.text and "甲小区庭院联络站" in form.text
    done = await submit(client, NEW, "/t/comm-a/deputy/receptions", _form(site["id"]))
    assert done.status_code == 303, text_of(done)[:1500]
    page = await client.get(done.headers["location"])
    body = text_of(page)
    assert "1 条列入您的履职清单，1 条转交社区办理" in body
    assert "楼道灯坏了" in body and "王阿姨" in body and "137****5678" in body and PHONE not in page.text
    assert "垃圾桶满溢" not in body  # handed to the staff: not the deputy's to follow
    assert "甲小区庭院联络站" in text_of(page) and "接待 2 人" in body  # the past reception, with its station

    # The concern is the community's, filed by the core (its clock, the staff's inbox), for the visitor.
    filed = await _concerns(client, auth, "comm-a", "cstaff")
    assert [c["title"] for c in filed] == ["垃圾桶满溢"]
    concern = (await client.get(f"{BASE}/concerns/{filed[0]['id']}", headers=await auth("cstaff"))).json()
    assert concern["channel"] == "liaison_station" and concern["deadlines"]["respond_by"]
    await sign_in(client, "comm-a", "cstaff")
    assert "垃圾桶满溢" in text_of(await client.get("/t/comm-a/staff/inbox"))

    # The duty item is the deputy's alone, with no concern; the API shows the phone masked too.
    items = (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json()
    assert [(i["title"], i["concern"], i["visitor_phone"]) for i in items] == [("楼道灯坏了", None, "137****5678")]


async def test_a_reception_form_sent_twice_records_one_reception(client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    key = re.search(r'name="form_key" value="([^"]+)"', (await client.get(NEW)).text)
    assert key, "the reception form carries its key"
    sent = [await submit(client, NEW, "/t/comm-a/deputy/receptions", _form(site["id"], form_key=key.group(1)))
            for _ in range(2)]
    assert [s.status_code for s in sent] == [303, 303] and sent[0].headers["location"] == sent[1].headers["location"]
    assert [c["title"] for c in await _concerns(client, auth, "comm-a", "cstaff")] == ["垃圾桶满溢"]
    items = (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json()
    assert [i["title"] for i in items] == ["楼道灯坏了"]
    # The same key with something else typed: nothing recorded, and the deputy is told to check.
    changed = await submit(client, NEW, "/t/comm-a/deputy/receptions",
                           _form(site["id"], form_key=key.group(1), residents_received="5"))
    assert changed.status_code == 409 and "这次接待已经记录过了" in text_of(changed)
    assert len((await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json()) == 1


async def test_a_refused_reception_names_each_field_keeps_what_was_typed_and_files_nothing(
        client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    refused = await submit(client, NEW, "/t/comm-a/deputy/receptions",
                           _form(site["id"], **{"requests-1-title": " ", "visitor_phone": "12345",
                                                "residents_received": "两个"}))
    assert refused.status_code in (400, 422)
    assert 'id="residents_received-error"' in refused.text  # the form's own check comes first
    refused = await submit(client, NEW, "/t/comm-a/deputy/receptions", _form(site["id"], held_at="07/20/2026 9:30 AM"))
    said = re.search(r'<p class="error" id="held_at-error">([^<]+)</p>', refused.text)
    assert refused.status_code == 422 and said and said.group(1).startswith("接待时间：") and "北京时间" in said.group(1)
    assert 'name="held_at" value="07/20/2026 9:30 AM"' in refused.text and 'type="datetime-local"' not in refused.text
    refused = await submit(client, NEW, "/t/comm-a/deputy/receptions",
                           _form(site["id"], **{"requests-1-title": " ", "visitor_phone": "12345"}))
    assert refused.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([\w-]+)-error">([^<]+)</p>', refused.text))
    assert errors.keys() == {"requests-1-title", "visitor_phone"}, errors
    assert "标题" in errors["requests-1-title"] and "手机号" in errors["visitor_phone"]
    assert 'aria-describedby="requests-1-title-error"' in refused.text
    assert "3单元楼道灯坏了一个月" in refused.text and "东门垃圾桶天天满溢" in refused.text  # kept as typed
    assert await _concerns(client, auth, "comm-a", "cstaff") == []
    assert (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json() == []
    empty = await submit(client, NEW, "/t/comm-a/deputy/receptions",
                         {"station": site["id"], "held_at": "2026-07-20T09:30", "residents_received": "1"})
    assert empty.status_code == 422 and "至少记录一条群众诉求" in empty.text


async def test_the_form_asks_for_more_requests_and_only_the_deputys_roles_may(client: AsyncClient,
                                                                               auth: Auth) -> None:
    await station(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    more = await client.get("/t/comm-a/deputy/receptions/request", params={"i": 2},
                            headers={"hx-request": "true"})
    assert more.status_code == 200 and 'id="requests-2-title"' in more.text and "i=3" in more.text
    assert "<html" not in more.text
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(NEW)).status_code == 403


async def test_each_update_of_an_item_is_an_event_in_its_timeline(app: Litestar, client: AsyncClient,
                                                                   auth: Auth) -> None:
    site = await station(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    await submit(client, NEW, "/t/comm-a/deputy/receptions", _form(site["id"]))
    item = (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json()[0]
    url = f"/t/comm-a/deputy/items/{item['id']}"
    notes = f"{url}/notes"
    for kind, text in [("research", "现场查看3单元楼道"), ("meeting", "与楼长协商更换方案"),
                       ("referral", "转交街道城管科"), ("result", "已更换灯具")]:
        done = await submit(client, url, notes, {"kind": kind, "text": text, "back": "item"})
        assert done.status_code == 303 and done.headers["location"].startswith(url), done.text[:500]
    bad = await submit(client, url, f"{url}/feedback", {"score": "9", "text": "很好"})
    assert bad.status_code == 422 and 'id="feedback_score-error"' in bad.text and "很好" in bad.text
    empty = await submit(client, url, notes, {"kind": "research", "text": " ", "back": "item"})
    assert empty.status_code == 422 and 'id="note_text-error"' in empty.text
    rated = await submit(client, url, f"{url}/feedback", {"score": "5", "text": "灯亮了，谢谢代表"})
    assert rated.status_code == 303
    page = await client.get(url)
    timeline = page.text.split('id="timeline"', 1)[1].split("</section>", 1)[0]
    order = ["接待中收到", "现场查看3单元楼道", "与楼长协商更换方案", "转交街道城管科", "已更换灯具", "灯亮了，谢谢代表"]
    assert [timeline.index(step) for step in order] == sorted(timeline.index(step) for step in order), timeline
    assert "乙代表" in timeline and "deputy2" not in page.text  # display names, never usernames
    stored = (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json()[0]
    assert stored["state"] == "closed" and stored["closed_at"] and stored["feedback_score"] == 5
    async with tenant_session(app, "comm-a", "cstaff") as scope:  # each update is one event of the item
        actions = (await scope.session.scalars(select(WorkflowEvent.action).where(
            WorkflowEvent.subject_id == uuid.UUID(item["id"])).order_by(WorkflowEvent.seq))).all()
    assert actions == ["liaison.duty_item", *["liaison.duty_note"] * 4, "liaison.duty_feedback"]


async def test_another_deputy_or_tenant_cannot_open_an_item(client: AsyncClient, auth: Auth) -> None:
    item = (await reception(client, auth, deputy="deputy", requests=1))["items"][0]
    await sign_in(client, "comm-a", "deputy2")
    assert (await client.get(f"/t/comm-a/deputy/items/{item['id']}")).status_code == 404
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get(f"/t/comm-a/deputy/items/{item['id']}")).status_code == 403
    await _enable(client, auth, "comm-b", "bstaff")
    assert (await client.get(f"/t/comm-b/deputy/items/{item['id']}")).status_code == 404
    refused = await submit(client, "/t/comm-b/deputy", f"/t/comm-b/deputy/items/{item['id']}/feedback",
                           {"score": "1"})
    assert refused.status_code == 404
    assert (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy"))).json()[0]["feedback_score"] is None


async def test_a_street_station_files_each_concern_in_the_community_it_belongs_to(client: AsyncClient,
                                                                                   auth: Auth) -> None:
    await _enable(client, auth, "street-a", "sstaff")
    site = await client.post("/api/v1/tenants/street-a/liaison/stations", headers=await auth("sstaff"),
                             json={"name": "甲街道转角议事亭", "kind": "corner_pavilion", "place": "甲街道口",
                                   "schedule": [{"deputy": "deputy", "weekday": 4, "start": "15:00", "end": "17:00"}]})
    assert site.status_code == 201, site.text
    await sign_in(client, "street-a", "deputy")
    new = "/t/street-a/deputy/receptions/new"
    form = await client.get(new)
    assert "甲社区" in form.text and "乙社区" in form.text  # the communities below the street
    unplaced = await submit(client, new, "/t/street-a/deputy/receptions", _form(site.json()["id"]))
    assert unplaced.status_code == 422 and 'id="requests-1-community-error"' in unplaced.text
    comm_b = re.search(r'<option value="([0-9a-f-]+)">乙社区</option>', form.text)
    assert comm_b, form.text[:2000]
    done = await submit(client, new, "/t/street-a/deputy/receptions",
                        _form(site.json()["id"], **{"requests-1-community": comm_b.group(1)}))
    assert done.status_code == 303, text_of(done)[:1500]
    assert [c["title"] for c in await _concerns(client, auth, "comm-b", "bstaff")] == ["垃圾桶满溢"]
    assert await _concerns(client, auth, "comm-a", "cstaff") == []
    overview = text_of(await client.get("/t/street-a/deputy"))
    assert "甲街道转角议事亭" in overview and "甲街道口" in overview and "15:00" in overview


async def test_a_deputy_serving_a_district_reads_every_communitys_items_a_page_at_a_time(
        client: AsyncClient, auth: Auth) -> None:
    await reception(client, auth, deputy="deputy", requests=21)  # in 甲社区, the deputy's role is the district's
    await _enable(client, auth, "district-a", "dadmin")
    await sign_in(client, "district-a", "deputy")
    first = await client.get("/t/district-a/deputy")
    assert first.status_code == 200, first.text[:500]
    assert len(re.findall(r'class="card duty-item"', first.text)) == 20 and 'rel="next"' in first.text
    assert "甲社区" in text_of(first) and ">comm-a<" not in first.text  # the community's name, never its slug
    assert "/notes" not in first.text and "记录接待" not in text_of(first)  # recorded in the community
    second = await client.get("/t/district-a/deputy", params={"p": 2})
    assert len(re.findall(r'class="card duty-item"', second.text)) == 1 and 'rel="prev"' in second.text
    await sign_in(client, "comm-a", "deputy2")
    assert (await client.get("/t/district-a/deputy")).status_code == 403


async def test_a_visitors_phone_is_erased_with_the_tenants_retention_once_the_item_is_closed(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    import datetime

    from core import clock
    from core.accounts.retention import erase_old_phones
    from plugins.liaison_station.models import DutyItem

    site = await station(client, auth)
    await sign_in(client, "comm-a", "deputy2")
    assert (await submit(client, NEW, "/t/comm-a/deputy/receptions", _form(site["id"]))).status_code == 303
    now = clock.now()
    assert await erase_old_phones(app.state, now) == 0  # open: the deputy may still call the visitor back
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        item = (await scope.session.scalars(select(DutyItem))).one()
        assert item.visitor_phone == PHONE
        item.state, item.closed_at = "closed", now - datetime.timedelta(days=800)  # past 24 months
    assert await erase_old_phones(app.state, now) >= 1
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        assert (await scope.session.scalars(select(DutyItem.visitor_phone))).one() is None
    assert await erase_old_phones(app.state, now) == 0  # idempotent
