"""The account pages: joining from a phone (and the QR code that opens the join page), signing in by a code,
resetting a forgotten password, changing one's password, My account (name, language, phone, recent sign-ins,
signing out elsewhere); refusals shown next to their fields."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select, update

from core import clock
from core.accounts.models import User
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


ACCOUNT = "/t/comm-a/me/account"
NEW_PHONE = "13700004444"


async def _code_for(app: Litestar, phone: str) -> str:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == phone)
            .order_by(Notification.created_at.desc()).limit(1))
        assert row is not None
        return str(row.params["code"])


async def _api_token(client: AsyncClient, username: str = "resident") -> dict[str, str]:
    answer = await client.post("/api/v1/auth/token", json={"username": username, "password": "password-123"})
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_my_account_changes_the_name_and_the_language_which_the_portal_then_speaks(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "resident")
    refused = await submit(client, ACCOUNT, ACCOUNT, {"display_name": " ", "language": "zh-CN"})
    assert refused.status_code == 422 and 'id="display_name-error"' in refused.text
    done = await submit(client, ACCOUNT, ACCOUNT, {"display_name": "柳大爷", "language": "en"})
    assert done.status_code == 200 and 'id="profile-done"' in done.text
    assert "My account" in text_of(done) and "我的账号" not in text_of(done)  # this page already in English
    assert (await client.get("/api/v1/me", headers=await _api_token(client))).json()["language"] == "en"
    assert "柳大爷" in text_of(await client.get(ACCOUNT))
    # On a device where the reader picked no language, the account's is the portal's once they sign in.
    client.cookies.clear()
    await sign_in(client, "comm-a", "resident")
    assert "My account" in text_of(await client.get(ACCOUNT))
    assert "我的账号" in text_of(await client.get(f"{ACCOUNT}?lang=zh_CN"))  # a pick on the device wins


async def test_my_account_changes_the_phone_by_a_code_and_the_password(client: AsyncClient, app: Litestar) -> None:
    elsewhere = await _api_token(client)
    await sign_in(client, "comm-a", "resident")
    bad = await submit(client, ACCOUNT, f"{ACCOUNT}/phone/code", {"phone": "123"})
    assert bad.status_code == 422 and 'id="phone-error"' in bad.text
    sent = await submit(client, ACCOUNT, f"{ACCOUNT}/phone/code", {"phone": NEW_PHONE})
    assert sent.status_code == 200 and 'id="code-sent"' in sent.text and 'id="phone-form"' in sent.text
    code = await _code_for(app, NEW_PHONE)
    wrong_password = await submit(client, ACCOUNT, f"{ACCOUNT}/phone",
                                  {"phone": NEW_PHONE, "code": code, "password": "not-the-password-7"})
    assert wrong_password.status_code == 422 and 'id="password-error"' in wrong_password.text
    wrong_code = await submit(client, ACCOUNT, f"{ACCOUNT}/phone",
                              {"phone": NEW_PHONE, "code": "99999", "password": "password-123"})
    assert wrong_code.status_code == 422 and 'id="code-error"' in wrong_code.text
    cookie = client.cookies["yishi_session"]
    done = await submit(client, ACCOUNT, f"{ACCOUNT}/phone",
                        {"phone": NEW_PHONE, "code": code, "password": "password-123"})
    assert done.status_code == 200 and 'id="phone-done"' in done.text and "137****4444" in done.text
    assert NEW_PHONE not in text_of(done)  # shown masked, as the number always is here
    assert (await client.get(ACCOUNT)).status_code == 200  # still signed in here
    assert (await client.get("/api/v1/me", headers=elsewhere)).status_code == 401  # every other session ended
    client.cookies.set("yishi_session", cookie)  # this browser's cookie from before the change
    assert (await client.get(ACCOUNT)).status_code in (302, 303)


async def test_my_account_refuses_a_number_another_account_verified_in_the_same_words(
        client: AsyncClient, app: Litestar) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.username == "cstaff").values(phone_verified_at=clock.now()))
    await sign_in(client, "comm-a", "resident")
    sent = await submit(client, ACCOUNT, f"{ACCOUNT}/phone/code", {"phone": "13900000003"})
    assert sent.status_code == 200 and 'id="code-sent"' in sent.text  # as for any number
    refused = await submit(client, ACCOUNT, f"{ACCOUNT}/phone", {
        "phone": "13900000003", "code": await _code_for(app, "13900000003"), "password": "password-123"})
    assert refused.status_code == 422 and 'id="phone-error"' in refused.text
    assert "该手机号无法使用" in text_of(refused) and "cstaff" not in refused.text
    assert "138****1234" in text_of(await client.get(ACCOUNT))  # the number is unchanged


async def test_my_account_lists_recent_sign_ins_and_signs_out_every_other_device(client: AsyncClient) -> None:
    elsewhere = await _api_token(client)
    await submit(client, "/t/comm-a/login", "/t/comm-a/login",
                 {"username": "resident", "password": "password-123", "next": ACCOUNT})
    page = await client.get(ACCOUNT)
    assert page.status_code == 200 and "最近登录" in text_of(page) and "退出其他所有设备" in text_of(page)
    rows = page.text.split('id="sign-ins"', 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr>") == 3  # the head, the API's sign-in and the portal's
    assert "密码" in rows
    mine = await client.get("/t/comm-a/me/data")
    assert 'id="data-sign-ins">2<' in mine.text and len((await client.get("/t/comm-a/me/data.json")).json()["sign_ins"]) == 2
    cookie = client.cookies["yishi_session"]
    out = await submit(client, ACCOUNT, f"{ACCOUNT}/sign-out-others", {})
    assert out.status_code == 200 and 'id="others-done"' in out.text
    assert (await client.get(ACCOUNT)).status_code == 200  # this device stays signed in
    assert (await client.get("/api/v1/me", headers=elsewhere)).status_code == 401
    client.cookies.set("yishi_session", cookie)
    assert (await client.get(ACCOUNT)).status_code in (302, 303)


async def test_changing_the_password_in_the_portal_ends_every_other_session(client: AsyncClient) -> None:
    elsewhere = await _api_token(client)
    await sign_in(client, "comm-a", "resident")
    changed = await submit(client, "/t/comm-a/me/password", "/t/comm-a/me/password",
                           {"old_password": "password-123", "new_password": "Qp7-harbour-lantern"})
    assert changed.status_code == 200 and 'id="password-done"' in changed.text
    assert (await client.get("/api/v1/me", headers=elsewhere)).status_code == 401
    assert (await client.get(ACCOUNT)).status_code == 200
