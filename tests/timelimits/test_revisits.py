"""回访 and 重办 through the API: a resolved concern's resident is asked (and told), answers once per round,
"未解决" reopens the concern with a new clock and tells staff, staff record phone revisits, a completed topic asks
each of its concerns' residents and stays completed after a reopen (both databases)."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.events import WorkflowEvent
from core.notifications.fanout import fan_out
from core.tenancy.scope import tenant_session
from core.timelimits.services import deadlines, effective_policy, forget_policies
from tests.conftest import Auth
from tests.helpers import BASE, file, sign_in, text_of, topic_at

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
MONDAY = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=BEIJING)  # a working day, after the fixtures were written


def revisit_url(concern_id: str) -> str:
    return f"{BASE}/concerns/{concern_id}/revisit"


async def _resolved(client: AsyncClient, auth: Auth) -> dict:
    concern = await file(client, await auth("resident"))
    done = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                             json={"action": "resolve_directly", "note": "已协调物业在北门加装"})
    assert done.status_code == 200, done.text
    return done.json()


async def _rounds(client: AsyncClient, auth: Auth, concern_id: str, who: str = "resident") -> list[dict]:
    answer = await client.get(f"{BASE}/concerns/{concern_id}/revisits", headers=await auth(who))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _kinds(client: AsyncClient, auth: Auth, who: str, kind: str) -> list[dict]:
    answer = await client.get("/api/v1/me/notifications", headers=await auth(who))
    assert answer.status_code == 200, answer.text
    return [item for item in answer.json()["items"] if item["kind"] == kind]


async def _events(app: Litestar, concern_id: str, action: str) -> list[WorkflowEvent]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        rows = await scope.session.scalars(select(WorkflowEvent).where(WorkflowEvent.action == action)
                                           .order_by(WorkflowEvent.seq))
        return [e for e in rows if str(e.subject_id) == concern_id]


async def _concern(client: AsyncClient, auth: Auth, concern_id: str) -> dict:
    answer = await client.get(f"{BASE}/concerns/{concern_id}", headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_resolving_directly_asks_the_resident_and_tells_them(client: AsyncClient, auth: Auth) -> None:
    concern = await _resolved(client, auth)
    [asked] = await _rounds(client, auth, concern["id"])
    assert asked["round"] == 1 and asked["answered_at"] is None and asked["solved"] is None
    [told] = await _kinds(client, auth, "resident", "concern.revisit")
    assert "请告诉我们是否解决、是否满意" in told["body"] and concern["reference"] in told["body"]
    assert told["link"] == f"/t/comm-a/me/concerns/{concern['id']}"
    assert "柳" not in told["body"]  # nothing personal: the reference and the public summary


async def test_solved_and_satisfied_closes_the_round_and_the_concern_stays_resolved(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    concern = await _resolved(client, auth)
    answer = await client.post(revisit_url(concern["id"]), headers=await auth("resident"),
                               json={"solved": True, "satisfaction": "satisfied"})
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"asked_at": None, "answered_at": None} == {
        "round": 1, "asked_at": None, "solved": True, "satisfaction": "satisfied", "answered_at": None,
        "channel": "self", "note": None}
    after = await _concern(client, auth, concern["id"])
    assert after["status"] == "resolved" and after["reopened"] == 0 and after["deadlines"]["light"] is None
    [event] = await _events(app, concern["id"], "concern.revisited")
    assert event.payload == {"round": 1, "solved": True, "satisfaction": "satisfied", "channel": "self"}
    assert await _events(app, concern["id"], "concern.reopened") == []
    await fan_out(app.state)
    assert await _kinds(client, auth, "cstaff", "concern.reopened_in") == []


async def test_unsolved_reopens_with_a_new_clock_tells_staff_and_is_asked_again_once_resolved(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    forget_policies()
    with clock.frozen(MONDAY) as stopped:
        concern = await _resolved(client, auth)
        stopped.advance(datetime.timedelta(days=2, hours=5))  # Wednesday 15:00
        answered_at = clock.now()
        answer = await client.post(revisit_url(concern["id"]), headers=await auth("resident"),
                                   json={"solved": False, "satisfaction": "unsatisfied", "note": "北门还是没有"})
        assert answer.status_code == 200, answer.text
        async with tenant_session(app, "comm-a", "cstaff") as scope:
            policy = await effective_policy(scope.session, scope.tenant)
        respond_by, resolve_by = deadlines(policy, concern["category"], "normal", answered_at)
        after = await _concern(client, auth, concern["id"])
        assert after["status"] == "accepted" and after["reopened"] == 1
        clock_of = after["deadlines"]
        assert datetime.datetime.fromisoformat(clock_of["resolve_by"]) == resolve_by
        assert resolve_by != datetime.datetime.fromisoformat(concern["deadlines"]["resolve_by"])
        assert datetime.datetime.fromisoformat(clock_of["responded_at"]) == answered_at  # the resolve phase runs
        assert clock_of["urgency"] == "normal" and clock_of["light"] == "green"
        [reopened] = await _events(app, concern["id"], "concern.reopened")
        assert reopened.payload == {"round": 1} and reopened.to_state == "accepted"
        [revisited] = await _events(app, concern["id"], "concern.revisited")
        assert revisited.payload == {"round": 1, "solved": False, "satisfaction": "unsatisfied", "channel": "self"}
        await fan_out(app.state)
        [told] = await _kinds(client, auth, "cstaff", "concern.reopened_in")
        assert concern["reference"] in told["body"] and "未解决" in told["body"]
        assert told["link"] == f"/t/comm-a/me/concerns/{concern['id']}"  # staff read every concern there
        assert "北门还是没有" not in told["body"]
        # Resolved again: round 2 is asked.
        stopped.advance(datetime.timedelta(hours=1))
        again = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                                  json={"action": "resolve_directly", "note": "已加装"})
        assert again.status_code == 200, again.text
        assert again.json()["deadlines"]["light"] is None
    first, second = await _rounds(client, auth, concern["id"])
    assert (first["round"], first["solved"], first["note"]) == (1, False, "北门还是没有")
    assert (second["round"], second["answered_at"]) == (2, None)
    assert len(await _kinds(client, auth, "resident", "concern.revisit")) == 2


async def test_a_round_is_answered_once_and_only_by_its_resident(client: AsyncClient, auth: Auth) -> None:
    concern = await _resolved(client, auth)
    body = {"solved": True, "satisfaction": "basic"}
    for other in ("neighbour", "grid"):  # another resident; someone who may not triage either
        refused = await client.post(revisit_url(concern["id"]), headers=await auth(other), json=body)
        assert refused.status_code == 404, (other, refused.text)
    foreign = await client.post(revisit_url(concern["id"]).replace("comm-a", "comm-b"),
                                headers=await auth("bstaff"), json={**body, "channel": "phone"})
    assert foreign.status_code == 404, foreign.text
    assert (await client.post(revisit_url(concern["id"]), headers=await auth("resident"), json=body)).status_code == 200
    twice = await client.post(revisit_url(concern["id"]), headers=await auth("resident"),
                              json={"solved": False, "satisfaction": "unsatisfied"})
    assert twice.status_code == 409, twice.text
    assert (await _concern(client, auth, concern["id"]))["status"] == "resolved"
    # Not resolved yet: nothing to answer.
    fresh = await file(client, await auth("resident"))
    early = await client.post(revisit_url(fresh["id"]), headers=await auth("resident"), json=body)
    assert early.status_code == 409, early.text


@pytest.mark.parametrize(("body", "fields"), [
    ({"solved": True, "satisfaction": "happy"}, {"satisfaction"}),
    ({"solved": True, "satisfaction": "satisfied", "channel": "sms"}, {"channel"}),
    ({"solved": "yes", "satisfaction": "satisfied"}, {"solved"}),
    ({"satisfaction": "satisfied"}, {"solved"}),
])
async def test_bad_answers_are_refused_naming_the_field(client: AsyncClient, auth: Auth, body: dict[str, Any],
                                                        fields: set[str]) -> None:
    concern = await _resolved(client, auth)
    refused = await client.post(revisit_url(concern["id"]), headers=await auth("resident"), json=body)
    assert refused.status_code in (400, 422), refused.text
    assert {e["field"] for e in refused.json()["errors"]} == fields, refused.text
    assert (await _rounds(client, auth, concern["id"]))[0]["answered_at"] is None


async def test_staff_record_a_phone_revisit_and_residents_may_not(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    concern = await _resolved(client, auth)
    pretending = await client.post(revisit_url(concern["id"]), headers=await auth("resident"),
                                   json={"solved": True, "satisfaction": "satisfied", "channel": "phone"})
    assert pretending.status_code == 403, pretending.text
    recorded = await client.post(revisit_url(concern["id"]), headers=await auth("cstaff"), json={
        "solved": True, "satisfaction": "basic", "channel": "phone", "note": "电话回访，居民表示基本满意"})
    assert recorded.status_code == 200, recorded.text
    [row] = await _rounds(client, auth, concern["id"], "cstaff")
    assert (row["channel"], row["satisfaction"], row["note"]) == ("phone", "basic", "电话回访，居民表示基本满意")
    [event] = await _events(app, concern["id"], "concern.revisited")
    assert event.payload == {"round": 1, "solved": True, "satisfaction": "basic", "channel": "phone"}
    self_answer = await client.post(revisit_url(concern["id"]), headers=await auth("resident"),
                                    json={"solved": True, "satisfaction": "satisfied"})
    assert self_answer.status_code == 409, self_answer.text


async def test_a_completed_topic_asks_its_concerns_residents_and_stays_completed_after_a_reopen(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "completed")
    concern_id = ids["concern"]
    [asked] = await _rounds(client, auth, concern_id)
    assert asked["round"] == 1 and asked["answered_at"] is None
    assert len(await _kinds(client, auth, "resident", "concern.revisit")) == 1
    answer = await client.post(revisit_url(concern_id), headers=await auth("resident"),
                               json={"solved": False, "satisfaction": "unsatisfied"})
    assert answer.status_code == 200, answer.text
    after = await _concern(client, auth, concern_id)
    assert after["status"] == "accepted" and after["reopened"] == 1 and after["topic"] == topic_id
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=await auth("cstaff"))).json()
    assert detail["topic"]["state"] == "completed"
    assert [c["status"] for c in detail["concerns"]] == ["accepted"]
    public = await client.get(f"/t/comm-a/results/{topic_id}")
    assert public.status_code == 200
    await sign_in(client, "comm-a", "cstaff")
    board = await client.get(f"/t/comm-a/staff/topics/{topic_id}")
    assert board.status_code == 200 and "已受理" in text_of(board)
    # Resolved again, directly: the second round.
    again = await client.post(f"{BASE}/concerns/{concern_id}/triage", headers=await auth("cstaff"),
                              json={"action": "resolve_directly", "note": "已修好"})
    assert again.status_code == 200, again.text
    assert [r["round"] for r in await _rounds(client, auth, concern_id)] == [1, 2]


async def test_a_resident_without_an_account_is_called_back_by_staff(client: AsyncClient, auth: Auth) -> None:
    """A grid worker filed for them: nobody is told by the platform, and staff record the phone call's answer."""
    concern = await file(client, await auth("grid"), {"resident_name": "王阿姨", "resident_phone": "13700001111"})
    done = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                             json={"action": "resolve_directly", "note": "已处理"})
    assert done.status_code == 200, done.text
    assert [r["answered_at"] for r in await _rounds(client, auth, concern["id"], "cstaff")] == [None]
    assert await _kinds(client, auth, "grid", "concern.revisit") == []  # the filer is not the one asked
    phone = await client.post(revisit_url(concern["id"]), headers=await auth("cstaff"),
                              json={"solved": True, "satisfaction": "satisfied", "channel": "phone"})
    assert phone.status_code == 200, phone.text
    assert phone.json()["channel"] == "phone"


async def test_no_round_is_opened_for_a_concern_with_no_one_to_ask(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("grid"), {"resident_name": "过路人"})
    done = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                             json={"action": "resolve_directly", "note": "已处理"})
    assert done.status_code == 200, done.text
    assert await _rounds(client, auth, concern["id"], "cstaff") == []
    phone = await client.post(revisit_url(concern["id"]), headers=await auth("cstaff"),
                              json={"solved": True, "satisfaction": "satisfied", "channel": "phone"})
    assert phone.status_code == 409, phone.text


async def test_a_reopened_concern_waits_in_the_staff_inbox_to_be_resolved_again(client: AsyncClient,
                                                                                auth: Auth) -> None:
    concern = await _resolved(client, auth)
    answered = await client.post(revisit_url(concern["id"]), json={"solved": False, "satisfaction": "unsatisfied"},
                                 headers=await auth("resident"))
    assert answered.status_code in (200, 201), answered.text
    await sign_in(client, "comm-a", "cstaff")
    inbox = await client.get("/t/comm-a/staff/inbox")
    assert inbox.status_code == 200 and "重办：居民回访表示未解决" in inbox.text
    row = inbox.text.split('id="reopened-heading"', 1)[1]
    assert f'id="concern-{concern["id"]}"' in row and 'value="resolve_directly"' in row
    assert 'value="reject"' not in row.split("</section>", 1)[0]  # an accepted concern is not rejected


async def test_two_staff_resolving_at_once_resolve_it_once(client: AsyncClient, auth: Auth) -> None:
    """The concern's row is locked while it is triaged: the second finds it resolved (409), and one round waits."""
    concern = await file(client, await auth("resident"))
    staff = await auth("cstaff")
    answers = await asyncio.gather(*(client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=staff, json={
        "action": "resolve_directly", "note": f"已处理（{who}）"}) for who in ("甲", "乙")))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert len(await _rounds(client, auth, concern["id"], "cstaff")) == 1
