"""The workflow says what is true: a meeting's record waits for the meeting (which can be moved or called off
before it starts), an action item's owner can act on it, a low rating opens a follow-up (回访) instead of
un-completing the matter, and a concern follows its topic to the end."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient
from icalendar import Calendar

from core import clock
from tests.conftest import Auth
from tests.helpers import BASE, TODAY, topic_at

pytestmark = pytest.mark.usefixtures("world")
NOW = datetime.datetime.now(datetime.UTC)
NEXT_WEEK = (NOW + datetime.timedelta(days=7)).replace(microsecond=0)


async def future_meeting(client: AsyncClient, auth: Auth, state: str = "researching",
                         starts_at: datetime.datetime = NEXT_WEEK) -> tuple[str, str]:
    """A topic driven to `state` and a meeting scheduled on it for `starts_at`; their ids."""
    topic_id, _ = await topic_at(client, auth, state)
    meeting = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=await auth("cstaff"), json={
        "mechanism": "monthly", "venue": "八宝茶睦邻议事厅", "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + datetime.timedelta(hours=2)).isoformat()})
    assert meeting.status_code == 201, meeting.text
    return topic_id, meeting.json()["id"]


async def topic_events(client: AsyncClient, auth: Auth, topic_id: str) -> list[dict]:
    return (await client.get(f"{BASE}/topics/{topic_id}/events", headers=await auth("cstaff"))).json()


async def detail_of(client: AsyncClient, auth: Auth, topic_id: str) -> dict:
    return (await client.get(f"{BASE}/topics/{topic_id}", headers=await auth("cstaff"))).json()


# --- a meeting's record waits for the meeting -----------------------------------------------------------

async def test_minutes_and_a_decision_wait_until_the_meeting_has_started(
        client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, meeting_id = await future_meeting(client, auth)
    before = len(await topic_events(client, auth, topic_id))
    minutes = await client.post(f"{BASE}/meetings/{meeting_id}/minutes", headers=staff, json={"minutes": "讨论了"})
    assert minutes.status_code == 409, minutes.text
    assert NEXT_WEEK.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M") in minutes.json()["detail"]
    decision = await client.post(f"{BASE}/meetings/{meeting_id}/decision", headers=staff,
                                 json={"text": "同意", "method": "consensus"})
    assert decision.status_code == 409, decision.text
    assert len(await topic_events(client, auth, topic_id)) == before
    assert (await detail_of(client, auth, topic_id))["meetings"][0]["held"] is False

    with clock.frozen(NEXT_WEEK + datetime.timedelta(minutes=30)):
        minutes = await client.post(f"{BASE}/meetings/{meeting_id}/minutes", headers=staff, json={"minutes": "讨论了"})
        assert minutes.status_code == 200, minutes.text
        decision = await client.post(f"{BASE}/meetings/{meeting_id}/decision", headers=staff,
                                     json={"text": "同意", "method": "consensus"})
        assert decision.status_code == 201, decision.text


async def test_a_meeting_is_rescheduled_before_it_starts_with_a_reason_in_one_event(
        client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, meeting_id = await future_meeting(client, auth)
    url = f"{BASE}/meetings/{meeting_id}/reschedule"
    later = NEXT_WEEK + datetime.timedelta(days=3)
    assert (await client.post(url, headers=staff, json={"starts_at": later.isoformat(), "reason": " "})).status_code == 422
    assert (await client.post(url, headers=await auth("resident"),
                              json={"starts_at": later.isoformat(), "reason": "雨天"})).status_code == 403
    past = await client.post(url, headers=staff, json={"starts_at": (NOW - datetime.timedelta(days=1)).isoformat(),
                                                       "reason": "雨天"})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "starts_at", past.text
    before = len(await topic_events(client, auth, topic_id))
    moved = await client.post(url, headers=staff, json={"starts_at": later.isoformat(), "reason": "雨天改期"})
    assert moved.status_code == 200, moved.text
    assert datetime.datetime.fromisoformat(moved.json()["starts_at"]) == later
    assert datetime.datetime.fromisoformat(moved.json()["ends_at"]) == later + datetime.timedelta(hours=2)
    events = await topic_events(client, auth, topic_id)
    assert len(events) == before + 1
    event = events[-1]
    assert (event["action"], event["from_state"], event["to_state"]) == ("topic.reschedule", "scheduled", "scheduled")
    assert event["payload"]["reason"] == "雨天改期"
    assert datetime.datetime.fromisoformat(event["payload"]["from"]) == NEXT_WEEK
    # Once it has started it stays where it was.
    with clock.frozen(later + datetime.timedelta(minutes=5)):
        late = await client.post(url, headers=staff, json={
            "starts_at": (later + datetime.timedelta(days=1)).isoformat(), "reason": "再改"})
        assert late.status_code == 409, late.text
        cancel = await client.post(f"{BASE}/meetings/{meeting_id}/cancel", headers=staff, json={"reason": "不开了"})
        assert cancel.status_code == 409, cancel.text
    assert len(await topic_events(client, auth, topic_id)) == before + 1


@pytest.mark.parametrize("state, back_to", [("drafted", "drafted"), ("researching", "researching")])
async def test_cancelling_the_only_meeting_lets_the_topic_schedule_another(
        client: AsyncClient, auth: Auth, state: str, back_to: str) -> None:
    staff = await auth("cstaff")
    topic_id, meeting_id = await future_meeting(client, auth, state)
    url = f"{BASE}/meetings/{meeting_id}/cancel"
    assert (await client.post(url, headers=staff, json={"reason": ""})).status_code == 422
    before = len(await topic_events(client, auth, topic_id))
    cancelled = await client.post(url, headers=staff, json={"reason": "主要参会单位无法到场"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancelled_at"] and cancelled.json()["cancel_reason"] == "主要参会单位无法到场"
    events = await topic_events(client, auth, topic_id)
    assert len(events) == before + 1
    assert (events[-1]["action"], events[-1]["from_state"], events[-1]["to_state"]) == \
        ("topic.cancel_meeting", "scheduled", back_to)
    assert (await detail_of(client, auth, topic_id))["topic"]["state"] == back_to
    # A cancelled meeting takes no record and cannot be cancelled or moved again.
    assert (await client.post(url, headers=staff, json={"reason": "再取消"})).status_code == 409
    assert (await client.post(f"{BASE}/meetings/{meeting_id}/minutes", headers=staff,
                              json={"minutes": "讨论了"})).status_code == 409
    # Its calendar entry says so, under the same UID.
    ics = await client.get(f"{BASE}/meetings/{meeting_id}.ics", headers=staff)
    event = next(iter(Calendar.from_ical(ics.content).walk("VEVENT")))
    assert str(event["status"]) == "CANCELLED" and str(event["uid"]) == f"{meeting_id}@yishi"
    again = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=staff, json={
        "mechanism": "monthly", "venue": "红色议事亭", "starts_at": (NEXT_WEEK + datetime.timedelta(days=7)).isoformat()})
    assert again.status_code == 201, again.text
    assert (await detail_of(client, auth, topic_id))["topic"]["state"] == "scheduled"


async def test_cancelling_one_of_two_meetings_keeps_the_topic_scheduled(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, first = await future_meeting(client, auth)
    second = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=staff, json={
        "mechanism": "on_demand", "venue": "红色议事亭", "starts_at": (NEXT_WEEK + datetime.timedelta(days=1)).isoformat()})
    assert second.status_code == 201
    cancelled = await client.post(f"{BASE}/meetings/{first}/cancel", headers=staff, json={"reason": "合并到下一次"})
    assert cancelled.status_code == 200
    assert (await detail_of(client, auth, topic_id))["topic"]["state"] == "scheduled"


# --- an action item's owner can act on it --------------------------------------------------------------

async def test_an_action_item_goes_only_to_someone_who_can_act_on_it(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, _ = await topic_at(client, auth, "deliberated")
    for username, role in (("outsider", "party_member"), ("neighbour", "resident_rep")):
        granted = await client.post("/api/v1/tenants/comm-a/members", headers=staff,
                                    json={"user": username, "role": role})
        assert granted.status_code in (200, 201), granted.text
    url = f"{BASE}/topics/{topic_id}/actions"
    due = (TODAY + datetime.timedelta(days=5)).isoformat()
    before = len(await topic_events(client, auth, topic_id))
    # A resident, a Party member, a resident representative, a deputy here, staff of another community.
    for username in ("resident", "outsider", "neighbour", "deputy2"):
        refused = await client.post(url, headers=staff, json={"title": "安装", "owner_user": username, "due_date": due})
        assert refused.status_code == 422, (username, refused.text)
        assert username in refused.json()["detail"] and "责任人" in refused.json()["detail"], refused.text
    # Another community's staff reads as a name that does not exist: the form tells nothing about them.
    elsewhere = await client.post(url, headers=staff, json={"title": "安装", "owner_user": "bstaff", "due_date": due})
    ghost = await client.post(url, headers=staff, json={"title": "安装", "owner_user": "ghost", "due_date": due})
    assert elsewhere.status_code == ghost.status_code == 422
    assert elsewhere.json()["detail"].replace("bstaff", "ghost") == ghost.json()["detail"]
    assert len(await topic_events(client, auth, topic_id)) == before
    # The property company here, a department of the district above, staff here and above.
    for username in ("wuye", "zhujian", "cstaff", "dadmin"):
        given = await client.post(url, headers=staff, json={"title": "安装", "owner_user": username, "due_date": due})
        assert given.status_code == 201, (username, given.text)
        seen = await client.get(f"{BASE}/actions/{given.json()['id']}", headers=await auth(username))
        assert seen.status_code == 200, (username, seen.text)


# --- a low rating opens a follow-up --------------------------------------------------------------------

async def test_a_low_rating_opens_a_follow_up_that_staff_close_with_a_note(client: AsyncClient, auth: Auth) -> None:
    staff, resident = await auth("cstaff"), await auth("resident")
    topic_id, _ = await topic_at(client, auth, "completed")
    completed_at = (await detail_of(client, auth, topic_id))["topic"]["completed_at"]
    low = await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 1, "comment": "水压太低"},
                            headers=resident)
    assert low.status_code == 201, low.text
    detail = await detail_of(client, auth, topic_id)
    assert detail["topic"]["state"] == "completed" and detail["topic"]["completed_at"] == completed_at
    assert all(a["percent"] == 100 for a in detail["actions"])
    [follow_up] = detail["follow_ups"]
    assert follow_up["status"] == "open" and follow_up["reason"] == "low_rating"
    assert (follow_up["score"], follow_up["average"], follow_up["comment"]) == (1, 1.0, "水压太低")
    events = await topic_events(client, auth, topic_id)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events[-2:]] == [
        ("topic.rate", "completed", "completed"), ("follow_up.open", None, "open")]
    # Re-rating while one is open opens no second one.
    assert (await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 2}, headers=resident)).status_code == 201
    listed = (await client.get(f"{BASE}/follow-ups?status=open", headers=staff)).json()
    assert listed["total"] == 1 and listed["items"][0]["topic_title"] == "增设直饮水机"
    stats = (await client.get(f"{BASE}/stats", headers=staff)).json()["own"]
    assert (stats["follow_ups"], stats["follow_ups_open"]) == (1, 1)

    close = f"{BASE}/follow-ups/{follow_up['id']}/close"
    assert (await client.post(close, json={"note": "已回访"}, headers=resident)).status_code == 403
    assert (await client.post(close, json={"note": " "}, headers=staff)).status_code == 422
    closed = await client.post(close, json={"note": "已上门回访，物业调高了水压"}, headers=staff)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == "cstaff"
    assert closed.json()["note"] == "已上门回访，物业调高了水压" and closed.json()["closed_at"]
    assert (await client.post(close, json={"note": "再回访"}, headers=staff)).status_code == 409
    events = await topic_events(client, auth, topic_id)
    assert (events[-1]["action"], events[-1]["from_state"], events[-1]["to_state"]) == \
        ("follow_up.close", "open", "closed")
    stats = (await client.get(f"{BASE}/stats", headers=staff)).json()["own"]
    assert (stats["follow_ups"], stats["follow_ups_open"]) == (1, 0)
    assert (await client.get(f"{BASE}/follow-ups?status=maybe", headers=staff)).status_code == 422


async def test_a_good_rating_opens_no_follow_up(client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "completed")
    rated = await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 4}, headers=await auth("resident"))
    assert rated.status_code == 201
    assert (await detail_of(client, auth, topic_id))["follow_ups"] == []


# --- a concern follows its topic to the end ------------------------------------------------------------

async def test_a_concern_is_completed_with_its_topic_and_links_the_public_result(client: AsyncClient,
                                                                                  auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "executing")
    concern = (await client.get(f"{BASE}/concerns/{ids['concern']}", headers=await auth("cstaff"))).json()
    assert concern["status"] == "in_topic"
    public = (await client.get(f"{BASE}/public/concerns/{concern['tracking_code']}")).json()
    assert public["result"] == f"/t/comm-a/results/{topic_id}"  # public since publication
    done = await client.post(f"{BASE}/actions/{ids['action']}/complete", headers=await auth("wuye"))
    assert done.status_code == 200
    concern = (await client.get(f"{BASE}/concerns/{ids['concern']}", headers=await auth("cstaff"))).json()
    assert concern["status"] == "completed"
    public = (await client.get(f"{BASE}/public/concerns/{concern['tracking_code']}")).json()
    assert (public["status"], public["status_name"]) == ("completed", "已办结")
    assert public["result"] == f"/t/comm-a/results/{topic_id}"
    assert (await client.get(public["result"])).status_code == 200
    events = await topic_events(client, auth, topic_id)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events if e["action"].startswith("concern.")][-1] \
        == ("concern.completed", "in_topic", "completed")
