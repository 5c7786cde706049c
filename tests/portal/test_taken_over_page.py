"""A resident's own concern page, once the level above took the concern over (上级已接办), says who handles it now
and under which reference, as the public tracking page does, and links to follow it there."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE, file, sign_in, submit

pytestmark = pytest.mark.usefixtures("world")


async def test_the_residents_page_of_a_taken_over_concern_names_who_handles_it_and_the_new_reference(
        client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"), {"title": "两个社区之间的路灯不亮"})
    escalated = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                                  json={"action": "escalate", "reason": "路灯归街道管"})
    assert escalated.status_code == 200, escalated.text
    page_url = f"/t/comm-a/me/concerns/{concern['id']}"
    await sign_in(client, "comm-a", "resident")
    before = await client.get(page_url)
    assert before.status_code == 200 and 'id="handled-above"' not in before.text and 'id="taken-over"' not in before.text

    await sign_in(client, "street-a", "sstaff")
    taken = await submit(client, "/t/street-a/admin/escalations",
                         f"/t/street-a/admin/escalations/{concern['id']}/take-over", {})
    found = re.search(r"reference=([A-Z0-9-]+)", taken.headers["location"])
    assert found and found.group(1) != concern["reference"]
    new_reference = found.group(1)

    await sign_in(client, "comm-a", "resident")
    after = await client.get(page_url)
    assert after.status_code == 200
    shown = re.search(r'<dd id="handled-above">(.*?)</dd>', after.text, re.S)
    assert shown and "甲街道" in shown.group(1) and new_reference in shown.group(1)
    notice = re.search(r'<p class="notice" id="taken-over">(.*?)</p>', after.text, re.S)
    assert notice and new_reference in notice.group(1)
    followed = re.search(r'href="(/t/street-a/track/[^"]+)"', notice.group(1))
    assert followed, "no link to follow the matter at the street"
    there = await client.get(followed.group(1))
    assert there.status_code == 200 and new_reference in there.text


async def test_another_community_does_not_show_the_taken_over_concern(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"), {"title": "两个社区之间的路灯不亮"})
    await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                      json={"action": "escalate", "reason": "路灯归街道管"})
    await sign_in(client, "street-a", "sstaff")
    await submit(client, "/t/street-a/admin/escalations", f"/t/street-a/admin/escalations/{concern['id']}/take-over", {})
    for slug, username in (("comm-a", "resident"), ("comm-b", "bstaff")):
        await sign_in(client, slug, username)
        other = await client.get(f"/t/comm-b/me/concerns/{concern['id']}")
        assert other.status_code in (403, 404) and 'id="handled-above"' not in other.text
