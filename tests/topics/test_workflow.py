"""The six-step method end to end through the API: the drinking-water machine of 银巴小区, and every refusal."""

from __future__ import annotations

import asyncio
import datetime
import uuid

import pytest
from httpx import AsyncClient
from icalendar import Calendar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core import clock
from tests.conftest import Auth
from tests.helpers import BASE, TODAY, WATER, file, topic_at

pytestmark = pytest.mark.usefixtures("world")
async def test_the_drinking_water_machine_from_concern_to_completion(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "completed")
    staff = await auth("cstaff")
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=staff)).json()
    assert detail["topic"]["step_name"] == "监督执行" and detail["topic"]["completed_at"]
    assert detail["decision"]["text"].startswith("5天内") and detail["meetings"][0]["held"]
    assert detail["actions"][0]["percent"] == 100 and detail["actions"][0]["status"] == "completed"
    events = (await client.get(f"{BASE}/topics/{topic_id}/events", headers=staff)).json()
    topic_moves = [(e["action"], e["from_state"], e["to_state"]) for e in events if e["action"].startswith("topic.")]
    assert topic_moves == [
        ("topic.draft", None, "drafted"), ("topic.research", "drafted", "researching"),
        ("topic.schedule", "researching", "scheduled"), ("topic.minutes", "scheduled", "scheduled"),
        ("topic.decide", "scheduled", "deliberated"), ("topic.publish", "deliberated", "published"),
        ("topic.add_action", "published", "published"), ("topic.progress", "published", "executing"),
        ("topic.complete_action", "executing", "completed"),
    ]
    times = [e["at"] for e in events]
    assert times == sorted(times)
    # The resident follows it by reference, and rates it.
    code = (await client.get(f"{BASE}/concerns/{ids['concern']}", headers=await auth("resident"))).json()["tracking_code"]
    public = (await client.get(f"{BASE}/public/concerns/{code}")).json()
    assert public["status"] == "completed" and public["topic_state"] == "completed"
    assert "resident" not in str(public) and "13812341234" not in str(public)
    rated = await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 5, "comment": "太方便了"},
                              headers=await auth("resident"))
    assert rated.status_code == 201 and rated.json() == {"count": 1, "average": 5.0}
    # The public result: decision, the action's progress bar, the six-step timeline; no personal data.
    results = (await client.get(f"{BASE}/public/results")).json()
    assert results["total"] == 1
    result = results["items"][0]
    assert result["actions"][0]["percent"] == 100 and result["average_rating"] == 5.0
    assert [step["step"] for step in result["timeline"]] == [2, 3, 4, 5, 6]
    assert "柳先生" not in str(results) and "13812341234" not in str(results)
    stats = (await client.get(f"{BASE}/public/stats")).json()
    assert stats["consultations_held"] == 1 and stats["matters_completed"] == 1


async def test_reference_codes_count_up_per_tenant(client: AsyncClient, auth: Auth) -> None:
    first = await file(client, await auth("resident"))
    second = await file(client, await auth("resident"))
    year = datetime.datetime.now(datetime.UTC).year
    assert first["reference"] == f"JSX-{year}-000001" and second["reference"] == f"JSX-{year}-000002"
    assert first["status"] == "submitted"
    other = (await client.post("/api/v1/tenants/comm-b/concerns", json=WATER, headers=await auth("bstaff"))).json()
    assert other["reference"].endswith("-000001")


async def test_a_reference_takes_the_communities_year(client: AsyncClient, auth: Auth) -> None:
    """00:30 on 1 January in Beijing is still the old year in UTC: the reference is the new year's, on both paths
    (the year's first filing takes the steps, the second the one statement on PostgreSQL)."""
    headers = await auth("resident")
    new_year = datetime.datetime(2031, 1, 1, 0, 30, tzinfo=clock.LOCAL_TZ)
    with clock.frozen(new_year.astimezone(datetime.UTC)):
        first, second = await file(client, headers), await file(client, headers)
    assert (first["reference"], second["reference"]) == ("JSX-2031-000001", "JSX-2031-000002")


async def test_the_millionth_reference_of_a_year_keeps_every_digit(client: AsyncClient, auth: Auth,
                                                                   owner_engine: AsyncEngine) -> None:
    headers = await auth("resident")
    await file(client, headers)  # opens the year's counter
    async with owner_engine.begin() as conn:
        await conn.execute(text("UPDATE reference_counter SET value = 999998"))
    references = [(await file(client, headers))["reference"] for _ in range(3)]
    assert [r.rsplit("-", 1)[1] for r in references] == ["999999", "1000000", "1000001"]


async def test_an_idempotency_key_makes_a_retry_create_nothing(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("resident")
    first = await file(client, headers, **{"Idempotency-Key": "abc-1"})
    again = await file(client, headers, **{"Idempotency-Key": "abc-1"})
    assert again == first
    listed = (await client.get(f"{BASE}/concerns", headers=headers)).json()
    assert listed["total"] == 1
    different = await client.post(f"{BASE}/concerns", json={**WATER, "title": "别的事"},
                                  headers={**headers, "Idempotency-Key": "abc-1"})
    assert different.status_code == 409
    assert (await client.get(f"{BASE}/concerns", headers=headers)).json()["total"] == 1


async def test_a_retry_takes_no_reference_number_and_writes_no_event(client: AsyncClient, auth: Auth,
                                                                       owner_engine: AsyncEngine) -> None:
    headers = await auth("resident")
    first = await file(client, headers, **{"Idempotency-Key": "k-1"})
    assert (await file(client, headers, **{"Idempotency-Key": "k-1"})) == first
    refused = await client.post(f"{BASE}/concerns", json={**WATER, "title": "别的事"},
                                headers={**headers, "Idempotency-Key": "k-1"})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "Idempotency-Key"
    # The retries' numbers and events were rolled back with them: the next filing is number 2.
    assert (await file(client, headers))["reference"].endswith("-000002")
    async with owner_engine.connect() as conn:
        filed = (await conn.execute(text("SELECT count(*) FROM workflow_event WHERE action = 'concern.filed'"))).scalar()
    assert filed == 2


async def test_concurrent_filings_get_consecutive_references_on_one_unbroken_chain(
        client: AsyncClient, auth: Auth, yishi) -> None:  # noqa: F811
    headers = await auth("resident")
    distinct = [file(client, headers, **{"Idempotency-Key": f"c-{number}"}) for number in range(5)]
    retried = [file(client, headers, **{"Idempotency-Key": "same"}) for _ in range(3)]
    answers = await asyncio.gather(*distinct, *retried)
    assert len({answer["id"] for answer in answers[5:]}) == 1  # one concern for the retried key
    year = datetime.datetime.now(datetime.UTC).year
    references = sorted({answer["reference"] for answer in answers})
    assert references == [f"JSX-{year}-{number:06d}" for number in range(1, 7)]
    assert (await client.get(f"{BASE}/concerns", headers=headers)).json()["total"] == 6
    verified = await asyncio.to_thread(yishi, "audit", "verify", "comm-a")
    assert verified.exit_code == 0 and "链完整" in verified.output, verified.output


async def test_a_grid_worker_files_for_a_resident_and_phones_are_masked_above(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("grid"), {"channel": "grid_worker", "resident_name": "柳先生",
                                                      "resident_phone": "13812341234"})
    seen_by_grid = (await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("grid"))).json()
    assert seen_by_grid["resident_phone"] == "13812341234" and seen_by_grid["channel"] == "grid_worker"
    seen_by_district = (await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("dadmin"))).json()
    assert seen_by_district["resident_phone"] == "138****1234"
    refused = await client.post(f"{BASE}/concerns", json={**WATER, "resident_name": "别人"}, headers=await auth("resident"))
    assert refused.status_code == 403


async def test_residents_see_only_their_own_concerns(client: AsyncClient, auth: Auth) -> None:
    mine = await file(client, await auth("resident"))
    theirs = await file(client, await auth("neighbour"))
    listed = (await client.get(f"{BASE}/concerns", headers=await auth("resident"))).json()
    assert [c["id"] for c in listed["items"]] == [mine["id"]]
    assert (await client.get(f"{BASE}/concerns/{theirs['id']}", headers=await auth("resident"))).status_code == 404
    staff = (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()
    assert staff["total"] == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"title": ""}, 422, "title"),
        ({"category": "aliens"}, 422, "category"),
        ({"channel": "pigeon"}, 422, "channel"),
        ({"compound": str(uuid.uuid4())}, 422, "compound"),
        ({"resident_phone": "110"}, 403, None),
        ({"title": 5}, 400, "title"),
        ({"unknown": 1}, 400, None),
    ],
)
async def test_bad_concerns_are_refused_and_nothing_is_filed(client: AsyncClient, auth: Auth, body: dict,
                                                            status: int, field: str | None) -> None:
    headers = await auth("resident")
    response = await client.post(f"{BASE}/concerns", json={**WATER, **body}, headers=headers)
    assert response.status_code == status, response.text
    if field:
        assert any(e["field"] == field for e in response.json()["errors"])
    assert (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["total"] == 0


async def test_place_must_be_the_communitys_own(client: AsyncClient, auth: Auth) -> None:
    compounds = (await client.get("/api/v1/tenants/comm-b/compounds", headers=await auth("dadmin"))).json()
    other_building = compounds[0]["buildings"][0]["id"]
    response = await client.post(f"{BASE}/concerns", json={**WATER, "building": other_building},
                                 headers=await auth("resident"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "building"
    own = (await client.get(f"{BASE}/compounds", headers=await auth("resident"))).json()[0]
    ok = await client.post(f"{BASE}/concerns", json={**WATER, "building": own["buildings"][0]["id"]},
                           headers=await auth("resident"))
    assert ok.status_code == 201
    concern = (await client.get(f"{BASE}/concerns/{ok.json()['id']}", headers=await auth("cstaff"))).json()
    assert concern["compound"] == own["id"]


async def test_triage_rules(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    concern = await file(client, await auth("resident"))
    url = f"{BASE}/concerns/{concern['id']}/triage"
    assert (await client.post(url, json={"action": "reject"}, headers=staff)).status_code == 422
    assert (await client.post(url, json={"action": "resolve_directly"}, headers=staff)).status_code == 422
    assert (await client.post(url, json={"action": "shred"}, headers=staff)).status_code == 422
    assert (await client.post(url, json={"action": "accept"}, headers=await auth("resident"))).status_code == 403
    done = await client.post(url, json={"action": "resolve_directly", "note": "物业当天疏通"}, headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    again = await client.post(url, json={"action": "accept"}, headers=staff)
    assert again.status_code == 409


async def test_escalation_goes_one_level_up_and_comes_back(client: AsyncClient, auth: Auth) -> None:
    staff, street = await auth("cstaff"), await auth("sstaff")
    concern = await file(client, await auth("resident"))
    escalated = await client.post(f"{BASE}/concerns/{concern['id']}/triage",
                                  json={"action": "escalate", "reason": "涉及两个社区的道路"}, headers=staff)
    assert escalated.status_code == 200 and escalated.json()["escalated_to"] == "street-a"
    inbox = (await client.get("/api/v1/tenants/street-a/escalations", headers=street)).json()
    assert [c["id"] for c in inbox["items"]] == [concern["id"]]
    assert (await client.get("/api/v1/tenants/street-a/escalations", headers=staff)).status_code == 403
    assert (await client.get("/api/v1/tenants/district-b/escalations",
                             headers=await auth("badmin"))).json()["total"] == 0
    back = await client.post(f"/api/v1/tenants/street-a/escalations/{concern['id']}/return",
                             json={"instructions": "请社区先与物业协商"}, headers=street)
    assert back.status_code == 200 and back.json()["status"] == "accepted"
    seen = (await client.get(f"{BASE}/concerns/{concern['id']}", headers=staff)).json()
    assert seen["instructions"] == "请社区先与物业协商"
    # Escalated again, this time the street takes it over.
    await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "escalate", "reason": "协商未果"},
                      headers=staff)
    taken = await client.post(f"/api/v1/tenants/street-a/escalations/{concern['id']}/take_over", headers=street)
    assert taken.status_code == 201, taken.text
    assert taken.json()["status"] == "accepted"
    original = (await client.get(f"{BASE}/concerns/{concern['id']}", headers=staff)).json()
    assert original["status"] == "taken_over"
    twice = await client.post(f"/api/v1/tenants/street-a/escalations/{concern['id']}/take_over", headers=street)
    assert twice.status_code == 409


async def test_the_state_machine_refuses_steps_out_of_order(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, ids = await topic_at(client, auth, "scheduled")
    assert (await client.post(f"{BASE}/topics/{topic_id}/publish", headers=staff)).status_code == 409
    early = await client.post(f"{BASE}/meetings/{ids['meeting']}/decision", headers=staff,
                              json={"text": "装", "method": "consensus"})
    assert early.status_code == 409 and "纪要" in early.json()["detail"]
    action = await client.post(f"{BASE}/topics/{topic_id}/actions", headers=staff,
                               json={"title": "装", "owner_org": "物业", "due_date": TODAY.isoformat()})
    assert action.status_code == 409
    bad_vote = await client.post(f"{BASE}/meetings/{ids['meeting']}/minutes", headers=staff, json={"minutes": "记"})
    assert bad_vote.status_code == 200
    vote = await client.post(f"{BASE}/meetings/{ids['meeting']}/decision", headers=staff,
                             json={"text": "装", "method": "vote", "votes": {"同意": 9, "反对": 1}, "eligible_voters": 5})
    assert vote.status_code == 422 and vote.json()["errors"][0]["field"] == "eligible_voters"
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=staff)).json()
    assert detail["topic"]["state"] == "scheduled" and detail["decision"] is None


async def test_a_topic_cannot_complete_while_an_action_item_is_open(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, ids = await topic_at(client, auth, "executing")
    second = (await client.post(f"{BASE}/topics/{topic_id}/actions", headers=staff, json={
        "title": "张贴使用说明", "owner_org": "社区", "due_date": TODAY.isoformat()})).json()
    await client.post(f"{BASE}/actions/{ids['action']}/complete", headers=await auth("wuye"))
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=staff)).json()
    assert detail["topic"]["state"] == "executing"
    await client.post(f"{BASE}/actions/{second['id']}/complete", headers=staff)
    assert (await client.get(f"{BASE}/topics/{topic_id}", headers=staff)).json()["topic"]["state"] == "completed"


async def test_withdrawal_before_publication_returns_the_concerns(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, ids = await topic_at(client, auth, "researching")
    assert (await client.post(f"{BASE}/topics/{topic_id}/withdraw", json={"reason": " "}, headers=staff)).status_code == 422
    withdrawn = await client.post(f"{BASE}/topics/{topic_id}/withdraw", json={"reason": "业主自行解决"}, headers=staff)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    concern = (await client.get(f"{BASE}/concerns/{ids['concern']}", headers=staff)).json()
    assert concern["status"] == "accepted" and concern["topic"] is None
    published, _ = await topic_at(client, auth, "published")
    assert (await client.post(f"{BASE}/topics/{published}/withdraw", json={"reason": "x"},
                              headers=staff)).status_code == 409


async def test_only_owners_and_staff_report_progress(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    url = f"{BASE}/actions/{ids['action']}/progress"
    assert (await client.post(url, json={"percent": 10}, headers=await auth("resident"))).status_code == 403
    assert (await client.post(url, json={"percent": 10}, headers=await auth("zhujian"))).status_code == 404
    assert (await client.post(url, json={"percent": 130}, headers=await auth("wuye"))).status_code == 422
    assert (await client.post(url, json={"percent": 40}, headers=await auth("wuye"))).status_code == 201
    assert (await client.post(url, json={"percent": 20}, headers=await auth("wuye"))).status_code == 422
    mine = (await client.get(f"{BASE}/actions", headers=await auth("wuye"))).json()
    assert [a["id"] for a in mine["items"]] == [ids["action"]] and mine["items"][0]["percent"] == 40


async def test_a_low_rating_leaves_a_completed_matter_completed(client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "completed")
    assert (await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 4},
                              headers=await auth("neighbour"))).status_code == 404  # not their concern
    assert (await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 9},
                              headers=await auth("resident"))).status_code == 422
    low = await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 1, "comment": "水压太低"},
                            headers=await auth("resident"))
    assert low.status_code == 201
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=await auth("cstaff"))).json()
    assert detail["topic"]["state"] == "completed" and detail["follow_ups"][0]["status"] == "open"


async def test_overdue_action_items_are_flagged(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    topic_id, ids = await topic_at(client, auth, "published")
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=staff)).json()
    assert detail["actions"][0]["overdue"] is False
    overdue = (await client.get(f"{BASE}/actions?overdue=true", headers=staff)).json()
    assert overdue["total"] == 0


async def test_meeting_calendar_is_valid_icalendar(client: AsyncClient, auth: Auth) -> None:
    _, ids = await topic_at(client, auth, "scheduled")
    response = await client.get(f"{BASE}/meetings/{ids['meeting']}.ics", headers=await auth("cstaff"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1 and str(events[0]["location"]) == "红色议事亭"
    assert events[0].decoded("dtstart") == datetime.datetime.fromisoformat("2026-07-28T15:00:00+08:00")
    assert (await client.get(f"{BASE}/meetings/{ids['meeting']}.txt", headers=await auth("cstaff"))).status_code == 404


async def test_another_tenants_workflow_ids_are_404(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "published")
    other = await auth("dadmin")  # may act in comm-b, but comm-a's ids do not exist there
    for method, path in [("GET", f"/topics/{topic_id}"), ("GET", f"/topics/{topic_id}/events"),
                         ("POST", f"/topics/{topic_id}/publish"), ("GET", f"/concerns/{ids['concern']}"),
                         ("GET", f"/actions/{ids['action']}"), ("GET", f"/meetings/{ids['meeting']}.ics")]:
        crossed = await client.request(method, f"/api/v1/tenants/comm-b{path}", headers=other)
        assert crossed.status_code == 404, (path, crossed.status_code)
    assert (await client.get("/api/v1/tenants/comm-b/public/results")).json()["total"] == 0


async def test_stats_roll_up_over_the_tenants_below(client: AsyncClient, auth: Auth) -> None:
    await topic_at(client, auth, "completed")
    await client.post("/api/v1/tenants/comm-b/concerns", json=WATER, headers=await auth("bstaff"))
    district = (await client.get("/api/v1/tenants/district-a/stats", headers=await auth("dadmin"))).json()
    assert district["own"]["concerns_received"] == 0
    assert district["rollup"]["concerns_received"] == 2 and district["rollup"]["matters_completed"] == 1
    assert district["tenants_in_rollup"] == 4
    community = (await client.get(f"{BASE}/stats", headers=await auth("cstaff"))).json()
    assert community["own"]["concerns_received"] == 1 and community["rollup"]["concerns_received"] == 1
    other = (await client.get("/api/v1/tenants/district-b/stats", headers=await auth("badmin"))).json()
    assert other["rollup"]["concerns_received"] == 0
    assert (await client.get(f"{BASE}/stats", headers=await auth("resident"))).status_code == 403
    bad = await client.get(f"{BASE}/stats?from=2026-02-01&to=2026-01-01", headers=await auth("cstaff"))
    assert bad.status_code == 422
