"""Pausing a concern's clock (no alert while paused, the light it stopped at) and resuming it (each deadline
still ahead moved on: natural limits by the natural time paused, working-time limits by the working time);
extensions (延期) asked by the handling tenant and approved or refused by the level above, and by no one else
(both databases)."""

from __future__ import annotations

import datetime
import re

import pytest
from httpx import AsyncClient
from litestar import Litestar

from core import clock
from core.notifications.fanout import fan_out
from tests.conftest import Auth, http_client
from tests.helpers import sign_in, submit, text_of
from tests.timelimits.test_sweep import (
    HOUR,
    MINUTE,
    T0,
    _actions,
    _concern,
    _events,
    _file,
    _sweep,
    _told,
)

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
CONCERNS = "/api/v1/tenants/comm-a/concerns"


def _at(text: str | None) -> datetime.datetime:
    assert text is not None
    return datetime.datetime.fromisoformat(text)


async def _post(client: AsyncClient, moment: datetime.datetime, user: str, path: str,
                body: dict | None = None) -> tuple[int, dict]:
    with clock.frozen(moment):
        response = await client.post(path, json=body or {}, headers=await Auth(client)(user))
    return response.status_code, response.json()


async def _get(client: AsyncClient, moment: datetime.datetime, user: str, path: str) -> dict:
    with clock.frozen(moment):
        response = await client.get(path, headers=await Auth(client)(user))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_paused_clock_raises_no_alert_and_resuming_moves_its_deadlines_on(
        app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(T0):
        concern_id = await _file(client, "comm-a", "resident")
    before = await _concern(app, "comm-a", concern_id)
    # 10:00 on Friday 4 December: respond within 24 hours (natural), resolve within 7 working days.
    assert before.respond_by == T0 + 24 * HOUR
    assert before.resolve_by == datetime.datetime(2026, 12, 15, 10, 0, tzinfo=BEIJING)
    status, paused = await _post(client, T0 + HOUR, "cstaff", f"{CONCERNS}/{concern_id}/pause",
                                 {"reason": "waiting_resident"})
    assert status == 200, paused
    assert paused["deadlines"]["paused"] is True and paused["light"] == "green"
    assert (await _concern(app, "comm-a", concern_id)).alert_at is None
    assert (await _sweep(app, T0 + 30 * HOUR)).acted == 0  # long past its deadline, but paused
    # The light it stopped at, however late it is now.
    assert (await _get(client, T0 + 30 * HOUR, "cstaff", f"{CONCERNS}/{concern_id}"))["light"] == "green"
    status, again = await _post(client, T0 + 2 * HOUR, "cstaff", f"{CONCERNS}/{concern_id}/pause",
                                {"reason": "waiting_department"})
    assert status == 409, again

    status, resumed = await _post(client, T0 + 30 * HOUR, "cstaff", f"{CONCERNS}/{concern_id}/resume")
    assert status == 200, resumed
    # Paused 29 hours: the natural limit moves on by 29 hours; the working one by the working time paused, Friday
    # 11:00–12:00 and 14:30–18:00 (4½ hours), to 17:00 on the 15th.
    assert _at(resumed["deadlines"]["respond_by"]) == T0 + 53 * HOUR
    assert _at(resumed["deadlines"]["resolve_by"]) == datetime.datetime(2026, 12, 15, 17, 0, tzinfo=BEIJING)
    assert resumed["deadlines"]["paused"] is False
    after = await _concern(app, "comm-a", concern_id)
    assert after.respond_warn_at == T0 + 47 * HOUR and after.alert_at == T0 + 47 * HOUR and after.paused_at is None
    assert (await _sweep(app, T0 + 30 * HOUR + MINUTE)).acted == 0
    assert (await _sweep(app, T0 + 47 * HOUR + MINUTE)).done == {"concern.deadline_warning": 1}
    events = await _events(app, "comm-a", concern_id)
    assert _actions(events)[1:3] == ["concern.paused", "concern.resumed"]
    assert events[1].payload == {"reason": "waiting_resident", "note": None}
    status, refused = await _post(client, T0 + 31 * HOUR, "cstaff", f"{CONCERNS}/{concern_id}/resume")
    assert status == 409, refused


async def test_pausing_refuses_a_bad_reason_an_other_without_a_note_and_a_closed_concern(
        client: AsyncClient) -> None:
    with clock.frozen(T0):
        concern_id = await _file(client, "comm-a", "resident")
    status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/pause", {"reason": "lunch"})
    assert status == 422 and body["errors"][0]["field"] == "reason", body
    status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/pause", {"reason": "other"})
    assert status == 422 and body["errors"][0]["field"] == "note", body
    status, body = await _post(client, T0, "resident", f"{CONCERNS}/{concern_id}/pause", {"reason": "other",
                                                                                           "note": "等一下"})
    assert status == 403, body
    status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/triage",
                               {"action": "reject", "reason": "不属于本社区受理范围"})
    assert status == 200, body
    status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/pause", {"reason": "waiting_resident"})
    assert status == 409, body


async def _accepted(client: AsyncClient) -> str:
    with clock.frozen(T0):
        concern_id = await _file(client, "comm-a", "resident")
    status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/triage", {"action": "accept"})
    assert status == 200, body
    return concern_id


async def test_an_extension_approved_by_the_street_moves_the_resolve_deadline_and_clears_its_red(
        app: Litestar, client: AsyncClient) -> None:
    concern_id = await _accepted(client)
    due = datetime.datetime(2026, 12, 15, 10, 0, tzinfo=BEIJING)
    late = due + MINUTE
    assert (await _sweep(app, late)).done == {"concern.supervised": 1}  # resolve red, found at once
    status, asked = await _post(client, late, "cstaff", f"{CONCERNS}/{concern_id}/extensions",
                                {"extra": "P3D", "reason": "需等待物业采购维修配件"})
    assert status == 201 and asked["status"] == "pending", asked
    status, twice = await _post(client, late, "cstaff", f"{CONCERNS}/{concern_id}/extensions",
                                {"extra": "P1D", "reason": "再申请一次"})
    assert status == 409, twice
    [(who, body)] = await _told(app, "comm-a", "concern.extension_requested")
    assert who == "sstaff" and "延长 P3D" in body

    listed = await _get(client, late, "sstaff", "/api/v1/tenants/street-a/extensions")
    assert listed["total"] == 1 and listed["items"][0]["tenant"] == "comm-a"
    # Nobody else decides: not the community itself, not the district above the street, not another district.
    decide = f"/extensions/{asked['id']}/decision"
    assert (await _post(client, late, "cstaff", f"/api/v1/tenants/comm-a{decide}", {"approve": True}))[0] == 403
    assert (await _post(client, late, "dadmin", f"/api/v1/tenants/district-a{decide}", {"approve": True}))[0] == 404
    assert (await _post(client, late, "badmin", f"/api/v1/tenants/district-b{decide}", {"approve": True}))[0] == 404
    assert (await _get(client, late, "badmin", "/api/v1/tenants/district-b/extensions"))["total"] == 0

    status, approved = await _post(client, late, "sstaff", f"/api/v1/tenants/street-a{decide}", {"approve": True})
    assert status == 200 and approved["status"] == "approved", approved
    concern = await _concern(app, "comm-a", concern_id)
    assert concern.resolve_by == datetime.datetime(2026, 12, 18, 10, 0, tzinfo=BEIJING)  # three working days on
    assert concern.alert_stage is None and concern.alert_at == concern.resolve_warn_at and concern.alert_at > late
    assert (await _get(client, late, "cstaff", f"{CONCERNS}/{concern_id}"))["light"] == "green"
    await fan_out(app.state)
    [(who, body)] = await _told(app, "comm-a", "concern.extension_approved")
    assert who == "cstaff" and body.startswith("甲街道批准") and "12月18日 10:00" in body
    status, again = await _post(client, late, "sstaff", f"/api/v1/tenants/street-a{decide}", {"approve": False,
                                                                                               "note": "不同意"})
    assert status == 409, again
    assert _actions(await _events(app, "comm-a", concern_id))[-2:] == ["concern.extension_requested",
                                                                      "concern.extension_approved"]


async def test_a_refused_extension_leaves_the_deadline_and_a_refusal_needs_a_note(
        app: Litestar, client: AsyncClient) -> None:
    concern_id = await _accepted(client)
    before = (await _concern(app, "comm-a", concern_id)).resolve_by
    for extra in ("P1M", "三天", "P40D"):
        status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/extensions",
                                   {"extra": extra, "reason": "配件未到"})
        assert status == 422 and body["errors"][0]["field"] == "extra", (extra, body)
    status, body = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/extensions", {"extra": "P2D", "reason": " "})
    assert status == 422 and body["errors"][0]["field"] == "reason", body
    status, asked = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/extensions",
                                {"extra": "P2D", "reason": "配件未到"})
    assert status == 201, asked
    decide = f"/api/v1/tenants/street-a/extensions/{asked['id']}/decision"
    status, body = await _post(client, T0, "sstaff", decide, {"approve": False})
    assert status == 422 and body["errors"][0]["field"] == "note", body
    status, refused = await _post(client, T0, "sstaff", decide, {"approve": False, "note": "按期办结"})
    assert status == 200 and refused["status"] == "refused", refused
    assert (await _concern(app, "comm-a", concern_id)).resolve_by == before
    await fan_out(app.state)
    [(who, body)] = await _told(app, "comm-a", "concern.extension_refused")
    assert who == "cstaff" and "按期办结" in body
    # Refused, it may be asked again.
    status, asked = await _post(client, T0, "cstaff", f"{CONCERNS}/{concern_id}/extensions",
                                {"extra": "PT8H", "reason": "配件明天到"})
    assert status == 201 and asked["extra"] == "PT8H", asked


async def test_the_portal_pauses_resumes_asks_for_an_extension_and_the_street_decides_it(
        app: Litestar, client: AsyncClient) -> None:
    concern_id = await _accepted(client)
    page = f"/t/comm-a/staff/concerns/{concern_id}"
    with clock.frozen(T0 + HOUR):
        await sign_in(client, "comm-a", "cstaff")
        shown = await client.get(page)
        assert shown.status_code == 200 and "应办结时间 2026-12-15 10:00" in text_of(shown)
        refused = await submit(client, page, f"{page}/clock/pause", {"reason": "other", "note": ""})
        assert refused.status_code == 422 and 'id="pause-note-error"' in refused.text
        paused = await submit(client, page, f"{page}/clock/pause", {"reason": "waiting_department"})
        assert paused.status_code == 303
        assert "已暂停计时" in text_of(await client.get(paused.headers["location"]))
    with clock.frozen(T0 + 2 * HOUR):
        resumed = await submit(client, page, f"{page}/clock/resume", {})
        assert resumed.status_code == 303 and "已恢复计时" in text_of(await client.get(resumed.headers["location"]))
        bad = await submit(client, page, f"{page}/clock/extension", {"extra": "三天", "reason": "配件未到"})
        assert bad.status_code == 422 and 'id="extension-extra-error"' in bad.text
        asked = await submit(client, page, f"{page}/clock/extension", {"extra": "P2D", "reason": "配件未到"})
        assert asked.status_code == 303
    assert _actions(await _events(app, "comm-a", concern_id))[-3:] == [
        "concern.paused", "concern.resumed", "concern.extension_requested"]
    url = "/t/street-a/admin/extensions"
    async with http_client(app) as street:
        with clock.frozen(T0 + 3 * HOUR):
            await sign_in(street, "street-a", "sstaff")
            listing = await street.get(url)
            assert listing.status_code == 200 and "配件未到" in listing.text and "甲社区" in listing.text
            extension_id = re.search(r'id="extension-([0-9a-f-]{36})"', listing.text).group(1)  # type: ignore[union-attr]
            no_note = await submit(street, url, f"{url}/{extension_id}/decision", {"decision": "refuse", "note": ""})
            assert no_note.status_code == 422 and f'id="note-{extension_id}-error"' in no_note.text
            approved = await submit(street, url, f"{url}/{extension_id}/decision", {"decision": "approve", "note": ""})
            assert approved.status_code == 303 and "已批准" in text_of(await street.get(approved.headers["location"]))
    async with http_client(app) as community:
        with clock.frozen(T0 + 3 * HOUR):
            await sign_in(community, "street-a", "cstaff")
            assert (await community.get(url)).status_code == 403
    # Paused an hour of working time (11:00–12:00), then two working days more: 11:00 on the 17th.
    concern = await _concern(app, "comm-a", concern_id)
    assert concern.resolve_by == datetime.datetime(2026, 12, 17, 11, 0, tzinfo=BEIJING)
