"""The red pavilion plugin: monthly sessions planned ahead, on-demand sessions, Party members' participation."""

from __future__ import annotations

import datetime
import html

import pytest
from httpx import AsyncClient

from core.clock import LOCAL_TZ
from core.portal.i18n import gettext_for
from plugins.red_pavilion.services import next_monthly
from tests.conftest import Auth
from tests.helpers import BASE, accepted_concern, topic_at

pytestmark = pytest.mark.usefixtures("world")
PAVILION = f"{BASE}/pavilion"


@pytest.fixture
async def enabled(client: AsyncClient, auth: Auth) -> dict:
    staff = await auth("cstaff")
    await client.patch(BASE, json={"plugins": ["liaison_station", "red_pavilion"]}, headers=staff)
    venue = await client.post(f"{PAVILION}/venues", headers=staff,
                              json={"name": "红色议事亭", "party_committee": "甲社区党委"})
    assert venue.status_code == 201, venue.text
    return venue.json()


def test_the_next_monthly_date() -> None:
    after = datetime.datetime(2026, 7, 20, 12, 0, tzinfo=LOCAL_TZ)
    assert next_monthly(after, 15, "19:30") == datetime.datetime(2026, 8, 15, 19, 30, tzinfo=LOCAL_TZ)
    assert next_monthly(after, 25, "09:00") == datetime.datetime(2026, 7, 25, 9, 0, tzinfo=LOCAL_TZ)
    assert next_monthly(datetime.datetime(2026, 12, 20, tzinfo=LOCAL_TZ), 3, "10:00").year == 2027


async def test_monthly_sessions_are_planned_ahead_and_pick_up_waiting_concerns(client: AsyncClient, auth: Auth,
                                                                              enabled: dict) -> None:
    staff = await auth("cstaff")
    waiting = await accepted_concern(client, auth)
    planned = await client.post(f"{PAVILION}/venues/{enabled['id']}/monthly", json={"day": 15, "time": "19:30"},
                                headers=staff)
    assert planned.status_code == 200, planned.text
    session = planned.json()
    assert session["kind_name"] == "每月一议事" and session["state"] == "planned"
    assert datetime.datetime.fromisoformat(session["scheduled_for"]) > datetime.datetime.now(datetime.UTC)
    assert [a["id"] for a in session["agenda"]] == [waiting["id"]]
    held = await client.post(f"{PAVILION}/sessions/{session['id']}/held", headers=staff,
                             json={"party_members": ["li_party_a"], "notes": "议"})
    assert held.status_code == 422 and held.json()["errors"][0]["field"] == "party_members"
    await client.post(f"{BASE}/members", json={"user": "neighbour", "role": "party_member"}, headers=staff)
    held = await client.post(f"{PAVILION}/sessions/{session['id']}/held", headers=staff,
                             json={"party_members": ["neighbour"], "notes": "议"})
    assert held.status_code == 200 and held.json()["state"] == "held"
    assert [a["id"] for a in held.json()["agenda"]] == [waiting["id"]]
    upcoming = (await client.get(f"{PAVILION}/sessions?upcoming=true", headers=await auth("resident"))).json()
    assert len(upcoming) == 1 and upcoming[0]["kind"] == "monthly" and upcoming[0]["id"] != session["id"]
    again = await client.post(f"{PAVILION}/sessions/{session['id']}/held", headers=staff, json={"party_members": []})
    assert again.status_code == 409
    tally = (await client.get(f"{PAVILION}/tally", headers=staff)).json()
    assert (tally["sessions_held"], tally["monthly_held"], tally["party_member_participations"]) == (1, 1, 1)


async def test_on_demand_sessions_and_topics_scheduled_at_the_venue(client: AsyncClient, auth: Auth,
                                                                   enabled: dict) -> None:
    staff = await auth("cstaff")
    called = await client.post(f"{PAVILION}/sessions", headers=staff, json={
        "venue": enabled["id"], "scheduled_for": "2026-07-28T15:00:00+08:00"})
    assert called.status_code == 201 and called.json()["kind_name"] == "有事来商量"
    topic_id, _ = await topic_at(client, auth, "scheduled")  # its meeting is at 红色议事亭
    session = next(s for s in (await client.get(f"{PAVILION}/sessions", headers=staff)).json()
                   if s["id"] == called.json()["id"])
    assert session["topics"] == [topic_id]
    for body, field in [({"venue": enabled["id"], "scheduled_for": "2026-07-28T15:00:00"}, "scheduled_for"),
                        ({"venue": called.json()["id"], "scheduled_for": "2026-07-28T15:00:00+08:00"}, "venue")]:
        response = await client.post(f"{PAVILION}/sessions", json=body, headers=staff)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


async def test_only_staff_manage_and_only_enabling_tenants_see_it(client: AsyncClient, auth: Auth,
                                                                  enabled: dict) -> None:
    assert (await client.post(f"{PAVILION}/venues", json={"name": "x", "party_committee": "y"},
                              headers=await auth("resident"))).status_code == 403
    assert (await client.post(f"{PAVILION}/venues/{enabled['id']}/monthly", json={"day": 31, "time": "19:30"},
                              headers=await auth("cstaff"))).status_code == 422
    assert (await client.get("/api/v1/tenants/comm-b/pavilion/venues",
                             headers=await auth("bstaff"))).status_code == 404
    assert (await client.get("/api/v1/tenants/comm-b/pavilion/sessions",
                             headers=await auth("dadmin"))).status_code == 404


async def test_portal_blocks_show_the_next_sessions_and_receptions(client: AsyncClient, auth: Auth,
                                                                  enabled: dict) -> None:
    """The yishi_portal_blocks hook of both plugins, through the public blocks route."""
    staff = await auth("cstaff")
    await client.post(f"{PAVILION}/venues/{enabled['id']}/monthly", json={"day": 15, "time": "19:30"}, headers=staff)
    await client.post(f"{BASE}/liaison/stations", headers=staff, json={
        "name": "甲小区庭院联络站", "kind": "courtyard",
        "schedule": [{"deputy": "deputy", "weekday": 2, "start": "09:00", "end": "11:00"}]})
    blocks = (await client.get(f"{BASE}/public/blocks")).json()
    by_plugin = {b["plugin"]: b for b in blocks}
    assert by_plugin["red_pavilion"]["items"][0]["text"] == "每月一议事（红色议事亭）"
    reception = by_plugin["liaison_station"]["items"][0]
    assert reception["text"] == "甲代表 在甲小区庭院联络站接待群众"
    at = datetime.datetime.fromisoformat(reception["at"])
    assert at.weekday() == 2 and at > datetime.datetime.now(datetime.UTC)
    assert (await client.get("/api/v1/tenants/comm-b/public/blocks")).json() == []
    # The portal home shows both blocks in the reader's language.
    chinese = (await client.get("/t/comm-a/")).text
    assert "人大代表接待安排" in chinese and "甲代表 在甲小区庭院联络站接待群众" in chinese
    english = html.unescape((await client.get("/t/comm-a/?lang=en")).text)
    en = gettext_for("en")
    assert en("人大代表接待安排") in english and en("每月一议事 · 有事来商量") in english
    assert en("{deputy} 在{station}接待群众").format(deputy="甲代表", station="甲小区庭院联络站") in english
    assert f"{en('每月一议事')} (红色议事亭)" in english and "接待群众" not in english
