"""Supporters hear what reporters hear: a resident who joined a concern (附议) is told when staff accept and
resolve it, and of its topic's meeting, until they withdraw; the notice's link opens the concern for them."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE, sign_in, text_of, topic_at
from tests.related.matters import ROOF, file_in

pytestmark = pytest.mark.usefixtures("world")


async def notices(client: AsyncClient, auth: Auth, who: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/me/notifications", headers=await auth(who))
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["items"]))  # the oldest first


async def triage(client: AsyncClient, auth: Auth, concern: dict, **body: str) -> None:
    answer = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"), json=body)
    assert answer.status_code == 200, answer.text


async def test_a_supporter_is_told_of_acceptance_and_resolution_as_the_reporter_is(client: AsyncClient,
                                                                                  auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), {
        **ROOF, "description": "楼顶垃圾漏水，我是柳先生，电话13812341234"})
    joined = await client.post(f"{BASE}/concerns/{roof['id']}/support", headers=await auth("neighbour"))
    assert joined.status_code == 200, joined.text
    assert await notices(client, auth, "neighbour") == []  # joining tells no one
    await triage(client, auth, roof, action="accept")
    await triage(client, auth, roof, action="resolve_directly", note="已清运楼顶垃圾并修补防水层")

    reporter = [(n["kind"], n["subject"], n["body"], n["link"]) for n in await notices(client, auth, "resident")]
    supporter = [(n["kind"], n["subject"], n["body"], n["link"]) for n in await notices(client, auth, "neighbour")]
    assert [kind for kind, *_ in supporter] == ["concern.accepted", "concern.resolved"]
    assert supporter == reporter[:2]  # the same words, the same link
    assert all(roof["reference"] in body for _, _, body, _ in supporter)
    assert supporter[0][3] == f"/t/comm-a/me/concerns/{roof['id']}"
    for _, subject, body, _ in supporter:
        assert "柳" not in body + subject and "13812341234" not in body

    # The notice's link opens the concern for the supporter too: its public view, not the reporter's words.
    await sign_in(client, "comm-a", "neighbour")
    page = await client.get(supporter[0][3])
    assert page.status_code == 200, page.text[:500]
    shown = text_of(page)
    assert ROOF["title"] in shown and "已直接办结" in shown and "1 人附议" in shown
    assert "13812341234" not in page.text and "电话" not in page.text and "柳" not in shown


async def test_a_withdrawn_supporter_hears_no_more(client: AsyncClient, auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    neighbour = await auth("neighbour")
    assert (await client.post(f"{BASE}/concerns/{roof['id']}/support", headers=neighbour)).status_code == 200
    await triage(client, auth, roof, action="accept")
    assert (await client.delete(f"{BASE}/concerns/{roof['id']}/support", headers=neighbour)).status_code == 200
    await triage(client, auth, roof, action="resolve_directly", note="已清运")
    assert [n["kind"] for n in await notices(client, auth, "neighbour")] == ["concern.accepted"]
    await sign_in(client, "comm-a", "neighbour")
    assert (await client.get(f"/t/comm-a/me/concerns/{roof['id']}")).status_code == 404  # no longer theirs to follow


async def test_a_supporter_hears_of_the_topics_meeting(client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "researching")
    joined = await client.post(f"{BASE}/concerns/{ids['concern']}/support", headers=await auth("neighbour"))
    assert joined.status_code == 200 and joined.json()["status"] == "in_topic", joined.text
    meeting = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=await auth("cstaff"), json={
        "mechanism": "on_demand", "venue": "议事厅", "starts_at": "2026-12-20T15:00:00+08:00",
        "invitees": {"roles": ["party_member"]}})
    assert meeting.status_code == 201, meeting.text
    assert [n["kind"] for n in await notices(client, auth, "neighbour")] == ["topic.meeting_scheduled"]
    assert "topic.meeting_scheduled" in [n["kind"] for n in await notices(client, auth, "resident")]
    assert await notices(client, auth, "grid") == []  # neither reporter nor supporter
