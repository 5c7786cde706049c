"""The account pages: joining from a phone (and the QR code that opens the join page), signing in by a code,
resetting a forgotten password, changing one's password; refusals shown next to their fields."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.helpers import sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
JOIN = "/t/comm-a/join"
PHONE = "13700003333"


async def _code(app: Litestar) -> str:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == PHONE)
            .order_by(Notification.created_at.desc()).limit(1))
        assert row is not None
        return str(row.params["code"])


async def _joined(client: AsyncClient, app: Litestar) -> None:
    sent = await submit(client, JOIN, f"{JOIN}/code", {"phone": PHONE})
    assert sent.status_code == 200 and 'id="code-sent"' in sent.text
    page = await client.get(JOIN)
    version = page.text.split('name="privacy_version" value="', 1)[1].split('"', 1)[0]
    done = await submit(client, JOIN, JOIN, {"phone": PHONE, "code": await _code(app), "name": "周阿姨",
                                              "password": "梧桐树下的2026年春", "privacy_version": version,
                                              "accept_privacy": "on", "sms_consent": "on"})
    assert done.status_code == 303 and done.headers["location"] == "/t/comm-a/concerns/new", done.text[:400]


async def test_a_resident_joins_in_the_portal_and_can_file_at_once(client: AsyncClient, app: Litestar) -> None:
    page = await client.get(JOIN)
    assert page.status_code == 200 and "甲社区隐私政策" in text_of(page) and "甲小区" in text_of(page)
    await _joined(client, app)
    form = await client.get("/t/comm-a/concerns/new")
    assert form.status_code == 200 and "周阿姨" in text_of(form)


async def test_the_join_form_shows_each_refusal_by_its_field_and_keeps_what_was_typed(
        client: AsyncClient, app: Litestar) -> None:
    await submit(client, JOIN, f"{JOIN}/code", {"phone": PHONE})
    refused = await submit(client, JOIN, JOIN, {"phone": PHONE, "code": "12", "name": "周阿姨", "password": "123",
                                                "privacy_version": "x"})
    assert refused.status_code == 422
    assert 'id="password-error"' in refused.text and 'id="accept_privacy-error"' in refused.text
    assert 'value="周阿姨"' in refused.text and f'value="{PHONE}"' in refused.text
    bad_phone = await submit(client, JOIN, f"{JOIN}/code", {"phone": "123"})
    assert bad_phone.status_code == 422 and 'id="phone-error"' in bad_phone.text


async def test_the_qr_code_opens_the_join_page(client: AsyncClient) -> None:
    svg = await client.get(f"{JOIN}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text and "甲社区" in svg.text
    assert (await client.get(f"{JOIN}/qr.svg?compound=not-an-id")).status_code == 422


async def test_sign_in_by_code_reset_and_change_the_password(client: AsyncClient, app: Litestar) -> None:
    await _joined(client, app)
    await submit(client, "/t/comm-a/me", "/t/comm-a/logout", {})
    later = clock.now() + datetime.timedelta(minutes=2)
    with clock.frozen(later):
        sent = await submit(client, "/t/comm-a/login", "/t/comm-a/login/code", {"phone": PHONE})
        assert sent.status_code == 200 and 'id="code-sent"' in sent.text
        signed = await submit(client, "/t/comm-a/login", "/t/comm-a/login/by-code",
                              {"phone": PHONE, "code": await _code(app), "next": "/t/comm-a/me"})
    assert signed.status_code == 303 and signed.headers["location"] == "/t/comm-a/me"
    changed = await submit(client, "/t/comm-a/me/password", "/t/comm-a/me/password",
                           {"old_password": "梧桐树下的2026年春", "new_password": "换一个新的密码2027"})
    assert changed.status_code == 200 and 'id="password-done"' in changed.text
    assert (await client.get("/t/comm-a/me")).status_code == 200  # still signed in here
    await submit(client, "/t/comm-a/me", "/t/comm-a/logout", {})
    with clock.frozen(later + datetime.timedelta(minutes=2)):
        await submit(client, "/t/comm-a/password/reset", "/t/comm-a/password/reset/code", {"phone": PHONE})
        reset = await submit(client, "/t/comm-a/password/reset", "/t/comm-a/password/reset",
                             {"phone": PHONE, "code": await _code(app), "password": "第三个密码也要足够长啊"})
    assert reset.status_code == 200 and 'id="reset-done"' in reset.text
    assert (await sign_in(client, "comm-a", PHONE, "第三个密码也要足够长啊")).status_code == 303  # the phone signs in


async def test_my_account_my_data_and_erasing_it_in_the_portal(client: AsyncClient, app: Litestar) -> None:
    await sign_in(client, "comm-a", "resident")
    account = await client.get("/t/comm-a/me/account")
    assert account.status_code == 200 and "138****1234" in account.text and "13812341234" not in account.text
    mine = await client.get("/t/comm-a/me/data")
    assert mine.status_code == 200 and "13812341234" in mine.text and "甲社区" in text_of(mine)
    download = await client.get("/t/comm-a/me/data.json")
    assert download.status_code == 200 and download.json()["account"]["username"] == "resident"
    refused = await submit(client, "/t/comm-a/me/data", "/t/comm-a/me/data/erase", {"password": "password-123"})
    assert refused.status_code == 422 and 'id="confirm-error"' in refused.text
    erased = await submit(client, "/t/comm-a/me/data", "/t/comm-a/me/data/erase",
                          {"password": "password-123", "confirm": "on"})
    assert erased.status_code == 200 and 'id="erased"' in erased.text
    assert (await client.get("/t/comm-a/me/data")).status_code in (302, 303)  # signed out: to the sign-in page
    assert (await client.post("/api/v1/auth/token", json={"username": "resident", "password": "password-123"})
            ).status_code == 401
