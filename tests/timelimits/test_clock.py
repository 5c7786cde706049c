"""Every concern's clock through the API: deadlines fixed at filing from the tenant's limits (natural and working
time, China's calendar), the light moving green → yellow → red as the clock moves, the respond phase ending when
staff first act, no light once closed, the list filtered and sorted by light, and who may choose an urgency
(both databases)."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient

from core import clock
from core.timelimits.clock import action_light
from core.timelimits.services import forget_policies
from tests.conftest import Auth
from tests.helpers import BASE, file, sign_in, text_of

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
# A Wednesday after the 2024 National Day week; the Saturday after it (12 October) was a 调休 working day.
FILED = datetime.datetime(2024, 10, 9, 10, 0, tzinfo=BEIJING)


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(BEIJING)


async def concern(client: AsyncClient, auth: Auth, concern_id: str, user: str = "cstaff") -> dict:
    answer = await client.get(f"{BASE}/concerns/{concern_id}", headers=await auth(user))
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(autouse=True)
def fresh_policies() -> None:
    forget_policies()  # each test's tenants are new; a policy read by an earlier test must not be reused


async def test_a_filing_gets_the_tenants_deadlines_counted_in_natural_and_working_time(client: AsyncClient,
                                                                                       auth: Auth) -> None:
    with clock.frozen(FILED):
        filed = await file(client, await auth("resident"))
        answer = await concern(client, auth, filed["id"])
    deadlines = answer["deadlines"]
    assert deadlines["urgency"] == "normal" and deadlines["responded_at"] is None and not deadlines["paused"]
    assert moment(deadlines["respond_by"]) == FILED + datetime.timedelta(hours=24)  # PT24H, natural time
    # P7D in working time: 10, 11, 12 (the 调休 Saturday), 14, 15, 16 and 17 October, at the same working moment.
    assert moment(deadlines["resolve_by"]) == datetime.datetime(2024, 10, 17, 10, 0, tzinfo=BEIJING)
    assert answer["light"] == deadlines["light"] == "green"


async def test_the_light_turns_yellow_with_a_quarter_left_then_red_and_the_list_shows_red_first(
        client: AsyncClient, auth: Auth) -> None:
    with clock.frozen(FILED) as stopped:
        late = await file(client, await auth("resident"))
        stopped.advance(datetime.timedelta(hours=1))
        fresh = await file(client, await auth("resident"), {"title": "楼道灯不亮"})
        stopped.advance(datetime.timedelta(hours=17, minutes=30))  # 18½ h after the first: under a quarter left
        assert (await concern(client, auth, late["id"]))["light"] == "yellow"
        assert (await concern(client, auth, fresh["id"]))["light"] == "green"
        stopped.advance(datetime.timedelta(hours=6))  # 24½ h: past the first one's respond_by
        assert (await concern(client, auth, late["id"]))["light"] == "red"
        listed = await client.get(f"{BASE}/concerns?sort=light", headers=await auth("cstaff"))
        assert [c["id"] for c in listed.json()["items"]] == [late["id"], fresh["id"]]
        red = await client.get(f"{BASE}/concerns?light=red", headers=await auth("cstaff"))
        assert [c["id"] for c in red.json()["items"]] == [late["id"]]
        wrong = await client.get(f"{BASE}/concerns?light=purple", headers=await auth("cstaff"))
        assert wrong.status_code in (400, 422) and "light" in wrong.text


async def test_staff_acting_ends_the_respond_phase_and_closing_stops_the_clock(client: AsyncClient,
                                                                               auth: Auth) -> None:
    with clock.frozen(FILED) as stopped:
        filed = await file(client, await auth("resident"))
        stopped.advance(datetime.timedelta(hours=30))  # red: not answered within 24 hours
        assert (await concern(client, auth, filed["id"]))["light"] == "red"
        accepted = await client.post(f"{BASE}/concerns/{filed['id']}/triage", json={"action": "accept"},
                                     headers=await auth("cstaff"))
        assert accepted.status_code == 200, accepted.text
        answer = await concern(client, auth, filed["id"])
        assert moment(answer["deadlines"]["responded_at"]) == FILED + datetime.timedelta(hours=30)
        assert answer["light"] == "green"  # now measured against resolve_by, 17 October
        resolved = await client.post(f"{BASE}/concerns/{filed['id']}/triage",
                                     json={"action": "resolve_directly", "note": "已联系物业加装"},
                                     headers=await auth("cstaff"))
        assert resolved.status_code == 200, resolved.text
        stopped.advance(datetime.timedelta(days=30))
        assert (await concern(client, auth, filed["id"]))["light"] is None


async def test_only_those_who_file_for_residents_choose_the_urgency(client: AsyncClient, auth: Auth) -> None:
    refused = await client.post(f"{BASE}/concerns", json={"title": "燃气味", "description": "楼道里有燃气味",
                                                          "category": "safety", "urgency": "urgent"},
                                headers=await auth("resident"))
    assert refused.status_code == 403 and "紧急程度" in refused.text
    with clock.frozen(FILED):
        urgent = await file(client, await auth("grid"), {"title": "燃气味", "urgency": "urgent",
                                                         "resident_name": "王", "channel": "grid_worker"})
        answer = await concern(client, auth, urgent["id"])
    assert answer["deadlines"]["urgency"] == "urgent"
    assert moment(answer["deadlines"]["respond_by"]) == FILED + datetime.timedelta(hours=2)
    unknown = await client.post(f"{BASE}/concerns", json={"title": "x", "description": "y", "category": "safety",
                                                          "urgency": "soon"}, headers=await auth("grid"))
    assert unknown.status_code == 422 and "urgency" in unknown.text


async def test_a_tightened_limit_applies_to_the_next_filing(client: AsyncClient, auth: Auth) -> None:
    with clock.frozen(FILED):
        before = await file(client, await auth("resident"))
        tightened = await client.put(f"{BASE}/time-limits", json={"limits": [{"urgency": "normal", "respond": "PT4H"}]},
                                     headers=await auth("cstaff"))
        assert tightened.status_code == 200, tightened.text
        after = await file(client, await auth("resident"), {"title": "电梯异响"})
        first, second = [await concern(client, auth, c["id"]) for c in (before, after)]
    assert moment(first["deadlines"]["respond_by"]) == FILED + datetime.timedelta(hours=24)
    assert moment(second["deadlines"]["respond_by"]) == FILED + datetime.timedelta(hours=4)


async def test_the_portal_shows_the_light_and_by_when_to_the_resident_and_staff(client: AsyncClient,
                                                                                auth: Auth) -> None:
    with clock.frozen(FILED) as stopped:
        filed = await file(client, await auth("resident"))
        await sign_in(client, "comm-a", "resident")
        page = await client.get(f"/t/comm-a/me/concerns/{filed['id']}")
        assert page.status_code == 200
        assert "应于 2024-10-10 10:00 前答复" in text_of(page) and "绿灯" in text_of(page)
        stopped.advance(datetime.timedelta(hours=25))
        await sign_in(client, "comm-a", "cstaff")
        inbox = await client.get("/t/comm-a/staff/inbox")
        assert inbox.status_code == 200 and 'data-light="red"' in inbox.text and "红灯" in text_of(inbox)


def test_an_action_items_light_follows_its_due_date() -> None:
    created = datetime.datetime(2024, 10, 9, 10, 0, tzinfo=BEIJING)
    due = datetime.date(2024, 10, 18)  # the day ends at midnight, Beijing time: 8 days and 14 hours after creation
    assert action_light(created, due, created + datetime.timedelta(days=1)) == "green"
    assert action_light(created, due, datetime.datetime(2024, 10, 17, 12, 0, tzinfo=BEIJING)) == "yellow"
    assert action_light(created, due, datetime.datetime(2024, 10, 18, 23, 59, tzinfo=BEIJING)) == "yellow"
    assert action_light(created, due, datetime.datetime(2024, 10, 19, 0, 0, tzinfo=BEIJING)) == "red"
