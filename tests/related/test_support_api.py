"""附议 through the API: joining another resident's open concern counts once, withdrawing takes it back, and
neither one's own concern, a closed one nor another community's can be joined."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE
from tests.related.matters import LAMP, ROOF, file_in

pytestmark = pytest.mark.usefixtures("world")


def support_url(concern: dict, slug: str = "comm-a") -> str:
    return f"/api/v1/tenants/{slug}/concerns/{concern['id']}/support"


async def supporters_seen_by_staff(client: AsyncClient, auth: Auth, concern: dict) -> int:
    answer = await client.get(f"{BASE}/concerns/{concern['id']}", headers=await auth("cstaff"))
    assert answer.status_code == 200, answer.text
    return answer.json()["supporters"]


async def test_joining_counts_once_and_withdrawing_takes_it_back(client: AsyncClient, auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    neighbour = await auth("neighbour")
    joined = await client.post(support_url(roof), headers=neighbour)
    assert joined.status_code == 200, joined.text
    view = joined.json()
    assert (view["id"], view["reference"], view["summary"], view["status"]) == (
        roof["id"], roof["reference"], ROOF["title"], "submitted")
    assert (view["supporters"], view["joined"], view["mine"]) == (1, True, False)
    assert "description" not in view and ROOF["description"] not in joined.text
    again = await client.post(support_url(roof), headers=neighbour)
    assert again.status_code == 200 and again.json()["supporters"] == 1  # twice is still one
    assert await supporters_seen_by_staff(client, auth, roof) == 1
    tracked = await client.get(f"{BASE}/public/concerns/{roof['tracking_code']}")
    assert tracked.status_code == 200 and tracked.json()["supporters"] == 1

    grid = await client.post(support_url(roof), headers=await auth("grid"))  # a second supporter
    assert grid.status_code == 200 and grid.json()["supporters"] == 2
    withdrawn = await client.delete(support_url(roof), headers=neighbour)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["supporters"], withdrawn.json()["joined"]) == (1, False)
    assert await supporters_seen_by_staff(client, auth, roof) == 1
    twice = await client.delete(support_url(roof), headers=neighbour)
    assert twice.status_code == 404 and twice.json()["detail"] == "您没有附议这条诉求"
    assert await supporters_seen_by_staff(client, auth, roof) == 1


async def test_ones_own_concern_is_not_joined(client: AsyncClient, auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    own = await client.post(support_url(roof), headers=await auth("resident"))
    assert own.status_code == 409 and own.json()["detail"] == "这是您自己反映的诉求，无需附议"
    for_her = await file_in(client, "comm-a", await auth("grid"), {**LAMP, "resident_name": "王秀英"})
    filer = await client.post(support_url(for_her), headers=await auth("grid"))  # who filed it for her
    assert filer.status_code == 409
    assert await supporters_seen_by_staff(client, auth, roof) == 0


async def test_a_closed_concern_is_not_joined(client: AsyncClient, auth: Auth) -> None:
    lamp = await file_in(client, "comm-a", await auth("resident"), LAMP)
    rejected = await client.post(f"{BASE}/concerns/{lamp['id']}/triage", headers=await auth("cstaff"),
                                 json={"action": "reject", "reason": "重复"})
    assert rejected.status_code == 200, rejected.text
    closed = await client.post(support_url(lamp), headers=await auth("neighbour"))
    assert closed.status_code == 409 and closed.json()["detail"] == "这条诉求当前为「未予受理」，不能再附议"
    assert await supporters_seen_by_staff(client, auth, lamp) == 0


async def test_another_communitys_concern_is_not_found(client: AsyncClient, auth: Auth) -> None:
    theirs = await file_in(client, "comm-b", await auth("bstaff"), ROOF)
    ours = await file_in(client, "comm-a", await auth("resident"), ROOF)
    across = await client.post(support_url(theirs), headers=await auth("neighbour"))  # comm-b's, by comm-a's path
    assert across.status_code == 404, across.text
    back = await client.post(support_url(ours, "comm-b"), headers=await auth("bstaff"))  # comm-a's, by comm-b's
    assert back.status_code == 404, back.text
    assert (await client.delete(support_url(theirs), headers=await auth("neighbour"))).status_code == 404
    stranger = await client.post(support_url(ours), headers=await auth("outsider"))  # no role in comm-a
    assert stranger.status_code == 403
    assert await supporters_seen_by_staff(client, auth, ours) == 0


async def test_a_mistyped_id_is_a_4xx(client: AsyncClient, auth: Auth) -> None:
    answer = await client.post(f"{BASE}/concerns/not-a-uuid/support", headers=await auth("neighbour"))
    assert 400 <= answer.status_code < 500
