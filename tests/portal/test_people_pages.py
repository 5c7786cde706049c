"""Staff manage people and places in the portal: an account for a grid worker (its one-time password must be
changed at the first sign-in), roles granted and revoked within what staff may grant, phones masked; compounds
with buildings pasted in bulk, and the join QR codes."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.conftest import PASSWORD, http_client
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


async def test_staff_deactivate_and_reactivate_an_account_whose_sessions_end_at_once(
        client: AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    async with http_client(app) as worker:
        await sign_in(worker, "comm-a", "grid")
        assert (await worker.get("/t/comm-a/me")).status_code == 200
        await sign_in(client, "comm-a", "cstaff")
        page = await client.get(PEOPLE)
        assert f'action="{PEOPLE}/deactivate"' in page.text
        row = re.search(r'<tr id="member-cstaff">.*?</tr>', page.text, re.S).group(0)  # type: ignore[union-attr]
        assert "deactivate" not in row  # nobody deactivates themselves
        off = await submit(client, PEOPLE, f"{PEOPLE}/deactivate", {"user": "grid"})
        assert off.status_code == 200
        row = re.search(r'<tr id="member-grid">.*?</tr>', off.text, re.S).group(0)  # type: ignore[union-attr]
        assert "已停用" in row and f'action="{PEOPLE}/reactivate"' in row
        ended = await worker.get("/t/comm-a/me")
        assert ended.status_code == 302 and "/t/comm-a/login" in ended.headers["location"]
        refused = await submit(worker, "/t/comm-a/login", "/t/comm-a/login",
                               {"username": "grid", "password": PASSWORD, "next": "/t/comm-a/me"})
        assert refused.status_code == 401 and "该账号已停用" in text_of(refused)
        own = await submit(client, PEOPLE, f"{PEOPLE}/deactivate", {"user": "cstaff"})
        assert own.status_code == 422 and 'id="form-error"' in own.text and "自己" in text_of(own)
        on = await submit(client, PEOPLE, f"{PEOPLE}/reactivate", {"user": "grid"})
        assert on.status_code == 200
        await sign_in(worker, "comm-a", "grid")
        assert (await worker.get("/t/comm-a/me")).status_code == 200


async def test_a_district_admin_reaches_the_people_of_every_tenant_below_and_grants_above_community_staff(
        client: AsyncClient) -> None:
    await sign_in(client, "district-a", "dadmin")
    district = await client.get("/t/district-a/staff/people")
    assert district.status_code == 200 and 'id="below"' in district.text
    links = re.findall(r'<a href="(/t/[^"/]+/staff/people)">', district.text)
    assert {"/t/street-a/staff/people", "/t/comm-a/staff/people", "/t/comm-b/staff/people"} <= set(links)
    community = await client.get(PEOPLE)
    assert community.status_code == 200 and "柳先生" in text_of(community) and 'id="below"' not in community.text
    assert "138****1234" in community.text  # an administrator above the community reads phones masked
    granted = await submit(client, PEOPLE, f"{PEOPLE}/grant", {"user": "grid", "role": "community_staff"})
    assert granted.status_code == 200
    row = re.search(r'<tr id="member-grid">.*?</tr>', granted.text, re.S).group(0)  # type: ignore[union-attr]
    assert "社区工作人员" in row
    off = await submit(client, PEOPLE, f"{PEOPLE}/deactivate", {"user": "deputy2"})
    assert off.status_code == 200 and "已停用" in text_of(off)


async def test_an_invitation_link_makes_an_account_once_and_then_answers_that_it_was_used(
        client: AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, "comm-a", "cstaff")
    made = await submit(client, PEOPLE, f"{PEOPLE}/invitations", {"role": "property_company", "note": "乙物业", "days": "7"})
    assert made.status_code == 200 and 'id="invited"' in made.text
    link = re.search(r'id="invited-link" value="([^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    path = link.removeprefix("http://testserver")
    assert path.startswith("/t/comm-a/invite/")
    assert "乙物业" in text_of(made) and 'id="pending"' in made.text
    async with http_client(app) as invitee:
        opened = await invitee.get(path)
        assert opened.status_code == 200 and "物业公司" in text_of(opened) and 'name="password"' in opened.text
        weak = await submit(invitee, path, path, {"name": "乙物业", "username": "yiwuye", "password": "password12"})
        assert weak.status_code == 422 and 'id="password-error"' in weak.text and 'value="yiwuye"' in weak.text
        taken = await submit(invitee, path, path, {"name": "乙物业", "username": "yiwuye", "password": "Qp7-harbour-lantern"})
        assert taken.status_code == 303 and taken.headers["location"] == "/t/comm-a/me"
        assert (await invitee.get("/t/comm-a/me")).status_code == 200  # signed in as the new account
        invitee.cookies.clear()
        used = await invitee.get(path)
        assert used.status_code == 410 and "已被使用" in text_of(used)
    page = await client.get(PEOPLE)
    assert 'id="pending"' not in page.text
    row = re.search(r'<tr id="member-yiwuye">.*?</tr>', page.text, re.S).group(0)  # type: ignore[union-attr]
    assert "物业公司" in row
    assert (await client.get("/t/comm-a/invite/no-such-link")).status_code == 404


async def test_a_signed_in_person_accepts_with_their_account_and_staff_revoke_open_links(
        client: AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, "comm-a", "cstaff")
    made = await submit(client, PEOPLE, f"{PEOPLE}/invitations", {"role": "resident_rep"})
    path = re.search(r'id="invited-link" value="http://testserver([^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    async with http_client(app) as resident:
        await sign_in(resident, "comm-a", "resident")
        opened = await resident.get(path)
        assert opened.status_code == 200 and 'name="password"' not in opened.text and "柳先生" in text_of(opened)
        assert (await submit(resident, path, path, {})).status_code == 303
    page = await client.get(PEOPLE)
    row = re.search(r'<tr id="member-resident">.*?</tr>', page.text, re.S).group(0)  # type: ignore[union-attr]
    assert "居民代表" in row
    made = await submit(client, PEOPLE, f"{PEOPLE}/invitations", {"role": "grid_worker", "note": "待定"})
    path = re.search(r'id="invited-link" value="http://testserver([^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    revoke = re.search(r'action="([^"]+/revoke)"', made.text.split('id="pending"')[1]).group(1)  # type: ignore[union-attr]
    assert (await submit(client, PEOPLE, revoke, {})).status_code == 200
    async with http_client(app) as stranger:
        gone = await stranger.get(path)
        assert gone.status_code == 410 and "已被撤销" in text_of(gone)
    above = await submit(client, PEOPLE, f"{PEOPLE}/invitations", {"role": "community_staff"})
    assert above.status_code == 403
    days = await submit(client, PEOPLE, f"{PEOPLE}/invitations", {"role": "grid_worker", "days": "99"})
    assert days.status_code == 422 and 'id="invite_days-error"' in days.text
    nul = await submit(client, PEOPLE, f"{PEOPLE}/invitations", {"role": "grid_worker", "note": "小\x00王"})
    assert nul.status_code == 422 and 'id="invite_note-error"' in nul.text
    nobody = await submit(client, PEOPLE, f"{PEOPLE}/deactivate", {"user": "gr\x00id"})
    assert nobody.status_code == 404 and 'id="form-error"' in nobody.text
    for action in ("grant", "revoke"):
        refused = await submit(client, PEOPLE, f"{PEOPLE}/{action}", {"user": "gr\x00id", "role": "grid_worker"})
        assert refused.status_code == {"grant": 422, "revoke": 404}[action], action  # a page that says so, never 500
