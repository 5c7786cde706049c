"""A person downloads everything Yishi holds about them and erases their account: their concerns stay (the
public record and the figures), with nothing on them that names or reaches the person; the event chain holds
no personal data, so it stays valid untouched."""

from __future__ import annotations

import json

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select, text

from core.accounts.models import User
from core.concerns.models import Concern
from core.events import WorkflowEvent
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import accepted_concern

pytestmark = pytest.mark.usefixtures("world")


async def test_a_resident_downloads_everything_held_about_them(client: AsyncClient, auth: Auth) -> None:
    concern = await accepted_concern(client, auth)
    answer = await client.get("/api/v1/me/data", headers=await auth("resident"))
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    data = answer.json()
    assert data["account"]["username"] == "resident" and data["account"]["phone"] == "13812341234"
    [here] = data["tenants"]
    assert here["tenant"] == "comm-a" and here["roles"] == ["resident"]
    assert [c["reference"] for c in here["concerns"]] == [concern["reference"]]
    assert any(n["subject"] == "诉求已受理" for n in here["notifications"])
    assert (await client.get("/api/v1/me/data")).status_code == 401


async def test_erasing_an_account_keeps_the_concern_and_cuts_every_link_to_the_person(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    concern = await accepted_concern(client, auth)
    headers = await auth("resident")
    refused = await client.post("/api/v1/me/erase", headers=headers, json={"password": "wrong-one", "confirm": False})
    assert refused.status_code == 422 and {e["field"] for e in refused.json()["errors"]} == {"password", "confirm"}
    done = await client.post("/api/v1/me/erase", headers=headers, json={"password": "password-123", "confirm": True})
    assert done.status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    signed = await client.post("/api/v1/auth/token", json={"username": "resident", "password": "password-123"})
    assert signed.status_code == 401
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        kept = await scope.session.scalar(select(Concern).where(Concern.reference == concern["reference"]))
        assert kept is not None and kept.resident_id is None
        assert kept.resident_name is None and kept.resident_phone is None
        filer = await scope.session.get(User, kept.filed_by_id)
        assert filer is not None and filer.display_name == "已注销用户" and filer.phone is None
        assert not filer.active and filer.username.startswith("erased-")
    stats = await client.get("/api/v1/tenants/comm-a/stats", headers=await auth("cstaff"))
    assert stats.status_code == 200 and stats.json()["own"]["concerns_received"] == 1  # the figures keep it


async def test_no_event_payload_holds_what_a_resident_typed_about_themselves(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    grid = await auth("grid")
    filed = await client.post("/api/v1/tenants/comm-a/concerns", headers=grid, json={
        "title": "楼道灯坏了", "description": "二单元三楼的灯不亮。", "category": "environment",
        "channel": "grid_worker", "resident_name": "孙大爷", "resident_phone": "13911112222"})
    assert filed.status_code == 201, filed.text
    await accepted_concern(client, auth)  # the resident's own, with their name and phone on the account
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        payloads = [json.dumps(e.payload or {}, ensure_ascii=False)
                    for e in (await scope.session.scalars(select(WorkflowEvent))).all()]
        raw = (await scope.session.execute(text("SELECT count(*) FROM workflow_event"))).scalar()
    assert payloads and raw == len(payloads)
    for payload in payloads:
        for personal in ("孙大爷", "13911112222", "柳先生", "13812341234"):
            assert personal not in payload, payload
