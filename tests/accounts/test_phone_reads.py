"""Every answer that shows residents' phone numbers in full is logged — who, whose, when, on which route — and
the district admin reads the log of every community below; masked answers log nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE, file

pytestmark = pytest.mark.usefixtures("world")


async def test_unmasked_phones_are_logged_and_the_district_admin_reads_the_log(client: AsyncClient,
                                                                              auth: Auth) -> None:
    concern = await file(client, await auth("grid"), {"channel": "grid_worker", "resident_name": "孙大爷",
                                                      "resident_phone": "13911112222"})
    listed = await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))
    assert listed.status_code == 200 and listed.json()["items"][0]["resident_phone"] == "13911112222"
    members = await client.get(f"{BASE}/members", headers=await auth("cstaff"))
    assert members.status_code == 200
    masked = await client.get("/api/v1/tenants/comm-a/concerns", headers=await auth("sstaff"))
    assert masked.status_code == 200  # the street sees numbers masked: nothing to log
    log = await client.get("/api/v1/tenants/district-a/phone-reads", headers=await auth("dadmin"))
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    assert [(e["viewer"], e["tenant"], e["subject_kind"]) for e in entries] == [
        ("cstaff", "comm-a", "user"), ("cstaff", "comm-a", "concern")]
    assert entries[1]["route"] == f"GET {BASE}/concerns" and entries[1]["subjects"] == [concern["id"]]
    assert (await client.get("/api/v1/tenants/comm-a/phone-reads", headers=await auth("cstaff"))).status_code == 403
    other = await client.get("/api/v1/tenants/district-b/phone-reads", headers=await auth("badmin"))
    assert other.status_code == 200 and other.json()["total"] == 0  # another district's reads are not theirs


async def test_another_districts_admin_and_community_staff_cannot_read_the_log(client: AsyncClient,
                                                                              auth: Auth) -> None:
    for user in ("badmin", "cstaff", "resident"):
        answer = await client.get("/api/v1/tenants/district-a/phone-reads", headers=await auth(user))
        assert answer.status_code in (403, 404), (user, answer.status_code)
    bad = await client.get("/api/v1/tenants/district-a/phone-reads", params={"limit": "many"},
                           headers=await auth("dadmin"))
    assert bad.status_code == 400
