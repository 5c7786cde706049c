"""Staff verify residency in the portal (/t/{slug}/staff/residents): the residents with their place and whether
it is confirmed, confirming, correcting and taking it back, the community's setting; where it is on, the triage
inbox marks what unconfirmed residents filed. Residents and other communities' staff reach none of it."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core.accounts.models import User
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import file, sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
RESIDENTS = "/t/comm-a/staff/residents"


async def _user_id(app: Litestar, username: str) -> str:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return str(await scope.session.scalar(select(User.id).where(User.username == username)))


def _row(html: str, user_id: str) -> str:
    found = re.search(rf'<tr id="resident-{user_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {user_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


async def test_staff_correct_confirm_and_take_back_a_residence(app: Litestar, client: AsyncClient) -> None:
    resident = await _user_id(app, "resident")
    await sign_in(client, "comm-a", "cstaff")
    assert "/staff/residents" in (await client.get("/t/comm-a/me")).text  # the workspace links it
    page = await client.get(RESIDENTS)
    assert page.status_code == 200
    row = _row(page.text, resident)
    assert "柳先生" in row and "13812341234" in row and "未确认" in row
    assert f"{RESIDENTS}/{resident}/confirm" not in page.text  # no place to confirm yet: correct it first
    form = await client.get(f"{RESIDENTS}/{resident}")
    assert form.status_code == 200 and "甲小区 2号楼" in text_of(form)
    compound = re.search(r'<option value="([0-9a-f-]{36})">甲小区</option>', form.text).group(1)  # type: ignore[union-attr]
    building = re.search(r'<option value="([0-9a-f-]{36})">甲小区 2号楼</option>', form.text).group(1)  # type: ignore[union-attr]
    nothing = await submit(client, f"{RESIDENTS}/{resident}", f"{RESIDENTS}/{resident}/confirm",
                           {"correct": "1", "compound": "", "building": ""})
    assert nothing.status_code == 422 and 'id="compound-error"' in nothing.text
    garbled = await submit(client, f"{RESIDENTS}/{resident}", f"{RESIDENTS}/{resident}/confirm",
                           {"correct": "1", "compound": "甲小区", "building": ""})
    assert garbled.status_code == 422 and 'id="compound-error"' in garbled.text
    saved = await submit(client, f"{RESIDENTS}/{resident}", f"{RESIDENTS}/{resident}/confirm",
                         {"correct": "1", "compound": compound, "building": building})
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"{RESIDENTS}?notice=confirmed")
    listed = await client.get(saved.headers["location"])
    row = _row(listed.text, resident)
    assert "甲小区" in row and "2号楼" in row and "已确认" in row and "住址已确认" in text_of(listed)
    assert f'id="resident-{resident}"' not in (await client.get(f"{RESIDENTS}/unconfirmed")).text
    back = await submit(client, RESIDENTS, f"{RESIDENTS}/{resident}/unconfirm", {"shown": "unconfirmed", "p": "1"})
    assert back.status_code == 303 and back.headers["location"].startswith(f"{RESIDENTS}/unconfirmed?")
    again = await client.get(f"{RESIDENTS}/unconfirmed")
    assert "未确认" in _row(again.text, resident) and "甲小区" in _row(again.text, resident)
    # From the list, as they said (now that there is a place).
    confirmed = await submit(client, RESIDENTS, f"{RESIDENTS}/{resident}/confirm", {"shown": "all"})
    assert confirmed.status_code == 303
    assert "已确认" in _row((await client.get(RESIDENTS)).text, resident)


async def test_a_refusal_on_the_list_is_shown_on_the_residents_row(app: Litestar, client: AsyncClient) -> None:
    neighbour = await _user_id(app, "neighbour")
    await sign_in(client, "comm-a", "cstaff")
    refused = await submit(client, RESIDENTS, f"{RESIDENTS}/{neighbour}/confirm", {"shown": "unconfirmed"})
    assert refused.status_code == 422
    assert f'id="resident-{neighbour}-error"' in refused.text and "请先选定" in text_of(refused)


async def test_the_setting_marks_unconfirmed_residents_concerns_in_the_inbox(client: AsyncClient,
                                                                            auth: Auth) -> None:
    await file(client, await auth("resident"))
    await sign_in(client, "comm-a", "cstaff")
    assert "住址未确认" not in text_of(await client.get("/t/comm-a/staff/inbox"))
    on = await submit(client, RESIDENTS, f"{RESIDENTS}/verification", {"verify_residency": "on"})
    assert on.status_code == 303
    page = await client.get(RESIDENTS)
    assert re.search(r'name="verify_residency" value="on" checked', page.text) and "已开启" in text_of(page)
    inbox = await client.get("/t/comm-a/staff/inbox")
    assert "住址未确认" in text_of(inbox)
    concern = re.search(r'id="concern-([0-9a-f-]{36})"', inbox.text).group(1)  # type: ignore[union-attr]
    detail = await client.get(f"/t/comm-a/me/concerns/{concern}")
    assert detail.status_code == 200 and "住址未确认" in text_of(detail)
    off = await submit(client, RESIDENTS, f"{RESIDENTS}/verification", {})
    assert off.status_code == 303
    assert "住址未确认" not in text_of(await client.get("/t/comm-a/staff/inbox"))
    assert (await client.get("/api/v1/tenants/comm-a", headers=await auth("cstaff"))).json()["portal"] == {
        "reference_prefix": "JSX", "verify_residency": False}  # the other settings are kept


async def test_residents_and_other_communities_staff_reach_none_of_it(app: Litestar, client: AsyncClient) -> None:
    resident = await _user_id(app, "resident")
    await sign_in(client, "comm-a", "resident")
    assert (await client.get(RESIDENTS)).status_code == 403
    assert (await client.get(f"{RESIDENTS}/{resident}")).status_code == 403
    refused = await submit(client, "/t/comm-a/me", f"{RESIDENTS}/verification", {"verify_residency": "on"})
    assert refused.status_code == 403
    await sign_in(client, "comm-b", "bstaff")
    assert (await client.get(f"/t/comm-b/staff/residents/{resident}")).status_code == 404
    sneaked = await submit(client, "/t/comm-b/staff/residents", f"/t/comm-b/staff/residents/{resident}/unconfirm", {})
    assert sneaked.status_code == 404
    assert (await client.get(RESIDENTS)).status_code == 403
