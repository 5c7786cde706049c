"""Staff manage people and places in the portal: an account for a grid worker (its one-time password must be
changed at the first sign-in), roles granted and revoked within what staff may grant, phones masked; compounds
with buildings pasted in bulk, and the join QR codes."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.conftest import http_client
from tests.helpers import sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
PEOPLE = "/t/comm-a/staff/people"
COMPOUNDS = "/t/comm-a/staff/compounds"


async def test_staff_add_a_grid_worker_who_must_choose_a_password_at_first_sign_in(client: AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, "comm-a", "cstaff")
    page = await client.get(PEOPLE)
    assert page.status_code == 200 and "柳先生" in text_of(page)
    assert "138****1234" in page.text or "13812341234" in page.text
    created = await submit(client, PEOPLE, PEOPLE, {"display_name": "网格员小王", "phone": "13500001234",
                                                     "username": "xiaowang", "role": "grid_worker"})
    assert created.status_code == 200 and 'id="created"' in created.text
    password = re.search(r'id="created-password">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert "网格员小王" in text_of(created) and "网格员" in text_of(created)
    async with http_client(app) as worker:
        await sign_in(worker, "comm-a", "xiaowang", password)
        forced = await worker.get("/t/comm-a/me")
        assert forced.status_code in (302, 303) and forced.headers["location"] == "/t/comm-a/me/password"
        changed = await submit(worker, "/t/comm-a/me/password", "/t/comm-a/me/password",
                               {"old_password": password, "new_password": "网格里的每一户人家都认识"})
        assert changed.status_code == 200 and 'id="password-done"' in changed.text
        workspace = await worker.get("/t/comm-a/me")
        assert workspace.status_code == 200 and "我要反映" in text_of(workspace)


async def test_refusals_name_their_field_and_nobody_grants_above_their_own_role(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    taken = await submit(client, PEOPLE, PEOPLE, {"display_name": "重名", "username": "resident",
                                                   "role": "grid_worker"})
    assert taken.status_code == 409 and 'id="username-error"' in taken.text
    above = await submit(client, PEOPLE, PEOPLE, {"display_name": "越权", "role": "district_admin"})
    assert above.status_code == 403
    revoked = await submit(client, PEOPLE, f"{PEOPLE}/revoke", {"user": "grid", "role": "grid_worker"})
    assert revoked.status_code == 200 and "grid" not in [m for m in re.findall(r"<td>(\w+)</td>", revoked.text)]
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(PEOPLE)).status_code == 403


async def test_staff_add_a_compound_with_buildings_pasted_as_a_range(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    page = await client.get(COMPOUNDS)
    assert page.status_code == 200 and 'id="join-qr"' in page.text and "甲小区" in text_of(page)
    added = await submit(client, COMPOUNDS, COMPOUNDS, {"name": "丙小区", "buildings": "1-3号楼，会所",
                                                         "has_property_company": "on"})
    assert added.status_code == 200 and "1号楼、2号楼、3号楼、会所" in text_of(added)
    compound = re.search(r'id="compound-([0-9a-f-]{36})">\s*<h2>丙小区', added.text).group(1)  # type: ignore[union-attr]
    more = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/buildings", {"buildings": "4-5号楼"})
    assert "4号楼、5号楼" in text_of(more)
    backwards = await submit(client, COMPOUNDS, COMPOUNDS, {"name": "丁小区", "buildings": "9-2号楼"})
    assert backwards.status_code == 422 and 'id="buildings-error"' in backwards.text
    assert 'value="丁小区"' in backwards.text
    assert (await client.get(f"/t/comm-a/join/qr.svg?compound={compound}")).status_code == 200


async def test_staff_reach_no_other_communitys_people_or_compounds(client: AsyncClient) -> None:
    await sign_in(client, "comm-b", "bstaff")
    page = await client.get("/t/comm-b/staff/compounds")
    theirs = re.search(r'id="compound-([0-9a-f-]{36})"', page.text).group(1)  # type: ignore[union-attr]
    await sign_in(client, "comm-a", "cstaff")
    assert (await client.get("/t/comm-b/staff/people")).status_code == 403
    sneaked = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{theirs}/buildings", {"buildings": "99号楼"})
    assert sneaked.status_code == 404
    assert (await client.get(f"/t/comm-a/join/qr.svg?compound={theirs}")).status_code == 422
    await sign_in(client, "comm-b", "bstaff")
    assert "99号楼" not in text_of(await client.get("/t/comm-b/staff/compounds"))
