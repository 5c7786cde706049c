"""Residents' phone numbers are kept no longer than their community says: on concerns closed longer ago than the
retention (24 months by default, the portal setting `phone_retention_months`) the nightly job erases them; the
phone a verification code went to is erased after a day."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.accounts.retention import erase_old_phones
from core.concerns.models import Concern
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, file

pytestmark = pytest.mark.usefixtures("world")


async def _closed_for(client: AsyncClient, auth: Auth, phone: str) -> str:
    concern = await file(client, await auth("grid"), {"channel": "grid_worker", "resident_name": "孙大爷",
                                                      "resident_phone": phone})
    done = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                             json={"action": "resolve_directly", "note": "已修好"})
    assert done.status_code == 200, done.text
    return str(concern["id"])


async def _phone(app: Litestar, concern_id: str) -> str | None:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        concern = await scope.session.scalar(select(Concern).where(Concern.id == concern_id))
        assert concern is not None
        return concern.resident_phone


async def test_phones_on_concerns_closed_past_the_retention_are_erased(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    now = clock.now()
    with clock.frozen(now - datetime.timedelta(days=800)):  # closed over two years ago
        old = await _closed_for(client, auth, "13911110001")
    with clock.frozen(now - datetime.timedelta(days=300)):
        recent = await _closed_for(client, auth, "13911110002")
    assert await erase_old_phones(app.state, now) == 1
    assert await _phone(app, old) is None and await _phone(app, recent) == "13911110002"
    assert await erase_old_phones(app.state, now) == 0  # idempotent
    # A community that keeps them for six months only
    patched = await client.patch("/api/v1/tenants/comm-a", headers=await auth("cstaff"),
                                 json={"portal": {"reference_prefix": "JSX", "phone_retention_months": "6"}})
    assert patched.status_code == 200, patched.text
    assert await erase_old_phones(app.state, now) == 1 and await _phone(app, recent) is None
    wrong = await client.patch("/api/v1/tenants/comm-a", headers=await auth("cstaff"),
                               json={"portal": {"phone_retention_months": "0"}})
    assert wrong.status_code == 422


async def test_the_phone_a_code_went_to_is_erased_after_a_day(app: Litestar, client: AsyncClient) -> None:
    sent = await client.post("/api/v1/tenants/comm-a/public/verification-codes",
                             json={"phone": "13711112222", "purpose": "join"})
    assert sent.status_code == 202
    await erase_old_phones(app.state, clock.now())
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        [row] = (await scope.session.scalars(select(Notification).where(Notification.kind == "verification.code"))).all()
        assert row.address == "13711112222"  # the same day: still there, to be delivered
    await erase_old_phones(app.state, clock.now() + datetime.timedelta(days=2))
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        [row] = (await scope.session.scalars(select(Notification).where(Notification.kind == "verification.code"))).all()
        assert row.address is None
