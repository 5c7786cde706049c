"""Verification of residency through the API: staff list the residents (phones masked unless their role reads
them, and then logged), confirm where they live (correcting it first if need be) and take it back; where the
community verifies residency, what an unconfirmed resident files is marked for staff, in one query a page.
Nobody confirms their own residence, and another community's staff confirm nobody here."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core.accounts.models import PhoneRead, Residence, User
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, file
from tests.platform.test_query_counts import queries_for

pytestmark = pytest.mark.usefixtures("world")
RESIDENTS = f"{BASE}/residents"
PHONE = "13700002222"


async def _user_id(app: Litestar, username: str) -> str:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return str(await scope.session.scalar(select(User.id).where(User.username == username)))


async def _compound(client: AsyncClient, auth: Auth, slug: str = "comm-a", user: str = "cstaff") -> dict:
    return (await client.get(f"/api/v1/tenants/{slug}/compounds", headers=await auth(user))).json()[0]


async def _verify(client: AsyncClient, auth: Auth, on: bool) -> None:
    changed = await client.patch(BASE, json={"portal": {"reference_prefix": "JSX", "verify_residency": on}},
                                 headers=await auth("cstaff"))
    assert changed.status_code == 200, changed.text


async def _listed(client: AsyncClient, headers: dict, query: str = "") -> dict[str, dict]:
    response = await client.get(f"{RESIDENTS}{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {r["user"]: r for r in response.json()["items"]}


async def test_a_resident_who_joined_is_listed_unconfirmed_with_the_place_they_gave(app: Litestar,
                                                                                   client: AsyncClient,
                                                                                   auth: Auth) -> None:
    compound = await _compound(client, auth)
    building = compound["buildings"][0]
    assert (await client.post(f"{BASE}/public/verification-codes",
                              json={"phone": PHONE, "purpose": "join"})).status_code == 202
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        code = (await scope.session.scalar(select(Notification).where(Notification.address == PHONE))).params["code"]
    version = (await client.get(f"{BASE}/public/privacy")).json()["version"]
    joined = await client.post(f"{BASE}/public/join", json={
        "phone": PHONE, "code": code, "name": "林女士", "password": "Qp7-harbour-lantern", "privacy_version": version,
        "accept_privacy": True, "sms_consent": False, "compound": compound["id"], "building": building["id"]})
    assert joined.status_code == 201, joined.text
    unconfirmed = await _listed(client, await auth("cstaff"), "?unconfirmed=true")
    her = unconfirmed[joined.json()["username"]]
    assert her["display_name"] == "林女士" and her["confirmed"] is False and her["confirmed_at"] is None
    assert (her["compound_name"], her["building_name"]) == (compound["name"], building["name"])
    assert {"resident", "neighbour"} <= set(unconfirmed)  # residents from before joining existed: no place yet
    assert "cstaff" not in unconfirmed and "grid" not in unconfirmed  # staff are no residents
    # Confirmed as she said, she leaves the unconfirmed list.
    confirmed = await client.post(f"{RESIDENTS}/{her['user_id']}/confirm", json={}, headers=await auth("cstaff"))
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert confirmed.json()["building"] == building["id"]
    assert joined.json()["username"] not in await _listed(client, await auth("cstaff"), "?unconfirmed=true")


async def test_phones_are_masked_unless_the_role_reads_them_and_then_the_read_is_logged(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    staff = await _listed(client, await auth("cstaff"))  # community staff call residents
    assert staff["resident"]["phone"] == "13812341234"
    district = await _listed(client, await auth("dadmin"))  # the district reads them masked
    assert district["resident"]["phone"] == "138****1234"
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        reads = (await scope.session.scalars(select(PhoneRead))).all()
    resident = await _user_id(app, "resident")
    assert [(r.subject_kind, resident in r.subjects, r.route.endswith("/residents")) for r in reads] == [
        ("user", True, True)]


async def test_staff_confirm_correcting_the_place_and_take_it_back(app: Litestar, client: AsyncClient,
                                                                    auth: Auth) -> None:
    staff = await auth("cstaff")
    resident = await _user_id(app, "resident")
    compound = await _compound(client, auth)
    # Nothing to confirm until staff say where they live.
    nowhere = await client.post(f"{RESIDENTS}/{resident}/confirm", json={}, headers=staff)
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "compound"
    theirs = await _compound(client, auth, "comm-b", "bstaff")
    for body, field in (({"compound": theirs["id"]}, "compound"), ({"building": theirs["buildings"][0]["id"]},
                                                                   "building"),
                        ({"compound": compound["id"], "building": theirs["buildings"][0]["id"]}, "building")):
        refused = await client.post(f"{RESIDENTS}/{resident}/confirm", json=body, headers=staff)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, body
    building = compound["buildings"][1]
    done = await client.post(f"{RESIDENTS}/{resident}/confirm", json={"building": building["id"]}, headers=staff)
    assert done.status_code == 200, done.text
    assert done.json()["compound"] == compound["id"] and done.json()["building_name"] == building["name"]
    assert done.json()["confirmed"] is True and done.json()["confirmed_at"]
    by = await _user_id(app, "cstaff")
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Residence).where(Residence.user_id == uuid.UUID(resident)))
        assert row is not None and str(row.confirmed_by) == by
    taken_back = await client.delete(f"{RESIDENTS}/{resident}/confirm", headers=staff)
    assert taken_back.status_code == 200 and taken_back.json()["confirmed"] is False
    assert taken_back.json()["building"] == building["id"]  # the place stays, unconfirmed
    # Only residents are confirmed: staff, and accounts that are not this community's, are not found.
    for somebody in ("grid", "outsider"):
        missing = await client.post(f"{RESIDENTS}/{await _user_id(app, somebody)}/confirm",
                                    json={"compound": compound["id"]}, headers=staff)
        assert missing.status_code == 404, somebody


async def test_an_archived_compound_is_no_correction_but_a_residence_there_is_still_shown(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    compound = await _compound(client, auth)
    neighbour = await _user_id(app, "neighbour")
    await client.post(f"{RESIDENTS}/{neighbour}/confirm", json={"compound": compound["id"]}, headers=staff)
    assert (await client.patch(f"{BASE}/compounds/{compound['id']}", json={"archived": True},
                               headers=staff)).status_code == 200
    assert (await _listed(client, staff))["neighbour"]["compound_name"] == compound["name"]
    resident = await _user_id(app, "resident")
    refused = await client.post(f"{RESIDENTS}/{resident}/confirm", json={"compound": compound["id"]}, headers=staff)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "compound"


async def test_nobody_confirms_their_own_residence_nor_anyone_in_another_community(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    compound = await _compound(client, auth)
    resident = await _user_id(app, "resident")
    body = {"compound": compound["id"]}
    mine = await client.post(f"{RESIDENTS}/{resident}/confirm", json=body, headers=await auth("resident"))
    assert mine.status_code == 403
    assert (await client.get(RESIDENTS, headers=await auth("resident"))).status_code == 403
    # Staff who live in their community are residents too, and still do not confirm themselves.
    granted = await client.post(f"{BASE}/members", json={"user": "cstaff", "role": "resident"},
                                headers=await auth("cstaff"))
    assert granted.status_code == 201
    cstaff = await _user_id(app, "cstaff")
    own = await client.post(f"{RESIDENTS}/{cstaff}/confirm", json=body, headers=await auth("cstaff"))
    assert own.status_code == 403 and "自己" in own.json()["detail"]
    # Another community's staff: refused here, and our resident is nobody there.
    bstaff = await auth("bstaff")
    assert (await client.post(f"{RESIDENTS}/{resident}/confirm", json=body, headers=bstaff)).status_code == 403
    assert (await client.get(RESIDENTS, headers=bstaff)).status_code == 403
    theirs = await client.post(f"/api/v1/tenants/comm-b/residents/{resident}/confirm",
                               json={"compound": (await _compound(client, auth, "comm-b", "bstaff"))["id"]},
                               headers=bstaff)
    assert theirs.status_code == 404
    assert (await _listed(client, await auth("cstaff")))["resident"]["confirmed"] is False
    # Those above the community may (a district admin's grants reach below).
    assert (await client.post(f"{RESIDENTS}/{resident}/confirm", json=body,
                              headers=await auth("dadmin"))).status_code == 200


async def _marks(client: AsyncClient, headers: dict) -> dict[str, Any]:
    response = await client.get(f"{BASE}/concerns?limit=50", headers=headers)
    assert response.status_code == 200, response.text
    return {c["id"]: c["resident_confirmed"] for c in response.json()["items"]}


async def test_where_residency_is_verified_an_unconfirmed_residents_concern_is_marked_for_staff(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await _verify(client, auth, True)
    staff = await auth("cstaff")
    compound = await _compound(client, auth)
    neighbour = await _user_id(app, "neighbour")
    assert (await client.post(f"{RESIDENTS}/{neighbour}/confirm", json={"compound": compound["id"]},
                              headers=staff)).status_code == 200
    unconfirmed = await file(client, await auth("resident"))
    confirmed = await file(client, await auth("neighbour"))
    on_behalf = await file(client, await auth("grid"), {"resident_name": "某居民", "resident_phone": "13800000000"})
    by_staff = await file(client, staff)
    marks = await _marks(client, staff)
    assert marks[unconfirmed["id"]] is False and marks[confirmed["id"]] is True
    assert marks[on_behalf["id"]] is None and marks[by_staff["id"]] is None  # no resident's account to confirm
    one = await client.get(f"{BASE}/concerns/{unconfirmed['id']}", headers=staff)
    assert one.json()["resident_confirmed"] is False
    # A resident reading their own concern sees no mark about themselves.
    own = await client.get(f"{BASE}/concerns/{unconfirmed['id']}", headers=await auth("resident"))
    assert own.status_code == 200 and own.json()["resident_confirmed"] is None
    # Confirmed later, the mark goes: it says what staff know now.
    await client.post(f"{RESIDENTS}/{await _user_id(app, 'resident')}/confirm", json={"compound": compound["id"]},
                      headers=staff)
    assert (await _marks(client, staff))[unconfirmed["id"]] is True


async def test_where_residency_is_not_verified_nothing_is_marked(client: AsyncClient, auth: Auth) -> None:
    filed = await file(client, await auth("resident"))
    assert (await _marks(client, await auth("cstaff")))[filed["id"]] is None
    await _verify(client, auth, True)
    assert (await _marks(client, await auth("cstaff")))[filed["id"]] is False
    await _verify(client, auth, False)
    assert (await _marks(client, await auth("cstaff")))[filed["id"]] is None


async def test_the_marks_cost_one_query_a_page_whatever_its_size(app: Litestar, client: AsyncClient,
                                                                 auth: Auth) -> None:
    staff = await auth("cstaff")
    for user in ("resident", "neighbour"):
        await file(client, await auth(user))
    unmarked = await queries_for(client, app, f"{BASE}/concerns?limit=2", staff)
    await _verify(client, auth, True)
    small = await queries_for(client, app, f"{BASE}/concerns?limit=2", staff)
    for _ in range(6):
        await file(client, await auth("resident"))
        await file(client, await auth("neighbour"))
    large = await queries_for(client, app, f"{BASE}/concerns?limit=14", staff)
    assert small == large == unmarked + 1


@pytest.mark.parametrize("value", ["true", 1, None])
async def test_the_setting_is_true_or_false(client: AsyncClient, auth: Auth, value: Any) -> None:
    refused = await client.patch(BASE, json={"portal": {"verify_residency": value}}, headers=await auth("cstaff"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "portal.verify_residency"
