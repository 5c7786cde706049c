"""Public iCalendar feeds of the plugin mechanisms: valid RFC 5545, stable UIDs, local times, 404 where switched off."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient, Response
from icalendar import Calendar

from tests.conftest import Auth
from tests.helpers import BASE

pytestmark = pytest.mark.usefixtures("world")
FEEDS = f"{BASE}/public"


async def station(client: AsyncClient, auth: Auth, name: str = "甲小区庭院联络站") -> dict:
    response = await client.post(f"{BASE}/liaison/stations", headers=await auth("cstaff"), json={
        "name": name, "kind": "courtyard", "place": "中心庭院",
        "schedule": [{"deputy": "deputy", "weekday": 2, "start": "09:00", "end": "11:00"},
                     {"deputy": "deputy2", "weekday": 5, "start": "15:30", "end": "17:00"}]})
    assert response.status_code == 201, response.text
    return response.json()


def valid_calendar(response: Response) -> list:
    """Parse a feed and check what RFC 5545 requires of it; returns its events."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    calendar = Calendar.from_ical(response.content)
    assert calendar.name == "VCALENDAR" and str(calendar["version"]) == "2.0" and calendar["prodid"]
    zones = {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")}
    events = list(calendar.walk("VEVENT"))
    for event in events:
        assert event["uid"] and event.decoded("dtstamp").tzinfo is not None
        start = event["dtstart"]
        assert start.params.get("TZID") in zones or event.decoded("dtstart").utcoffset() == datetime.timedelta(0)
        assert event.decoded("dtend") > event.decoded("dtstart")
    # Content lines end in CRLF and are folded at 75 octets (RFC 5545 §3.1).
    assert response.content.endswith(b"END:VCALENDAR\r\n") and b"\n" not in response.content.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in response.content.split(b"\r\n"))
    return events


async def test_reception_hours_are_a_weekly_feed_in_beijing_time(client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    first = valid_calendar(await client.get(f"{FEEDS}/liaison/receptions.ics"))  # no sign-in
    assert len(first) == 2
    by_summary = {str(e["summary"]): e for e in first}
    wednesday = by_summary["甲代表 在甲小区庭院联络站接待群众"]
    start = wednesday.decoded("dtstart")
    assert wednesday["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert (start.weekday(), start.hour, start.minute) == (2, 9, 0) and start.utcoffset() == datetime.timedelta(hours=8)
    assert wednesday.decoded("dtend") - start == datetime.timedelta(hours=2)
    assert wednesday["rrule"]["FREQ"] == ["WEEKLY"] and str(wednesday["location"]) == "中心庭院"
    assert str(by_summary["乙代表 在甲小区庭院联络站接待群众"]["summary"]).startswith("乙代表")
    again = valid_calendar(await client.get(f"{FEEDS}/liaison/receptions.ics"))
    assert [str(e["uid"]) for e in again] == [str(e["uid"]) for e in first]
    assert [e.decoded("dtstamp") for e in again] == [e.decoded("dtstamp") for e in first]
    one = valid_calendar(await client.get(f"{FEEDS}/liaison/stations/{site['id']}/receptions.ics"))
    assert sorted(str(e["uid"]) for e in one) == sorted(str(e["uid"]) for e in first)


async def test_a_station_feed_is_only_its_own_stations(client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    await station(client, auth, name="2号楼楼头议事会")
    assert len(valid_calendar(await client.get(f"{FEEDS}/liaison/receptions.ics"))) == 4
    assert len(valid_calendar(await client.get(f"{FEEDS}/liaison/stations/{site['id']}/receptions.ics"))) == 2
    missing = await client.get(f"{FEEDS}/liaison/stations/00000000-0000-0000-0000-000000000000/receptions.ics")
    assert missing.status_code == 404
    # Another tenant with the mechanism switched on cannot reach this station through its own address.
    enabled = await client.patch("/api/v1/tenants/comm-b", json={"plugins": ["liaison_station"]},
                                 headers=await auth("admin"))
    assert enabled.status_code == 200, enabled.text
    crossed = await client.get(f"/api/v1/tenants/comm-b/public/liaison/stations/{site['id']}/receptions.ics")
    assert crossed.status_code == 404
    assert valid_calendar(await client.get("/api/v1/tenants/comm-b/public/liaison/receptions.ics")) == []


async def test_pavilion_sessions_planned_and_called_on_demand(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    await client.patch(BASE, json={"plugins": ["liaison_station", "red_pavilion"]}, headers=staff)
    venue = (await client.post(f"{BASE}/pavilion/venues", headers=staff, json={
        "name": "党群温馨庭院", "party_committee": "甲社区党委", "place": "甲小区北门"})).json()
    monthly = (await client.post(f"{BASE}/pavilion/venues/{venue['id']}/monthly", json={"day": 15, "time": "19:30"},
                                 headers=staff)).json()
    called = (await client.post(f"{BASE}/pavilion/sessions", headers=staff, json={
        "venue": venue["id"], "scheduled_for": "2026-07-28T15:00:00+08:00"})).json()
    events = valid_calendar(await client.get(f"{FEEDS}/pavilion/sessions.ics"))
    by_uid = {str(e["uid"]): e for e in events}
    assert set(by_uid) == {f"{monthly['id']}@yishi", f"{called['id']}@yishi"}
    planned = by_uid[f"{monthly['id']}@yishi"]
    assert str(planned["summary"]) == "每月一议事：党群温馨庭院" and str(planned["location"]) == "甲小区北门"
    start = planned.decoded("dtstart")
    assert planned["dtstart"].params["TZID"] == "Asia/Shanghai" and (start.day, start.hour, start.minute) == (15, 19, 30)
    on_demand = by_uid[f"{called['id']}@yishi"]
    assert str(on_demand["summary"]) == "有事来商量：党群温馨庭院"
    assert on_demand.decoded("dtstart") == datetime.datetime.fromisoformat("2026-07-28T15:00:00+08:00")
    assert "甲社区党委" in str(on_demand["description"])


async def test_a_switched_off_mechanisms_feed_is_404(client: AsyncClient, auth: Auth) -> None:
    # comm-a has the liaison station only; comm-b has no plugin at all.
    assert (await client.get(f"{FEEDS}/pavilion/sessions.ics")).status_code == 404
    assert (await client.get("/api/v1/tenants/comm-b/public/liaison/receptions.ics")).status_code == 404
    assert (await client.get("/api/v1/tenants/nowhere/public/liaison/receptions.ics")).status_code == 404
    assert (await client.get(f"{FEEDS}/liaison/receptions.ics")).status_code == 200
    archived = await client.patch(BASE, json={"archived": True}, headers=await auth("dadmin"))
    assert archived.status_code == 200, archived.text
    assert (await client.get(f"{FEEDS}/liaison/receptions.ics")).status_code == 404
