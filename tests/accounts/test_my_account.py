"""My account through the API: one's name and language, a new phone number (a code to it and the current password;
a number another account verified refused without saying so), the log of recent sign-ins (written where a
session starts, the last 20 kept, in the data download, gone with the account), and signing out elsewhere."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import func, select, update

from core import clock
from core.accounts.models import SignIn, User
from core.accounts.sign_ins import KEPT_SIGN_INS, device_of, network_of
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("world")

NEW = "13700005555"
TAKEN = "13900000003"  # cstaff's number, verified below
WECHAT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Mobile/15E148 MicroMessenger/8.0.44")


def _bearer(answer: Any) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _token(client: AsyncClient, username: str = "resident", password: str = PASSWORD,
                 user_agent: str = "yishi-tests") -> dict[str, str]:
    return _bearer(await client.post("/api/v1/auth/token", json={"username": username, "password": password},
                                     headers={"User-Agent": user_agent}))


async def _last_code(app: Litestar, phone: str) -> str | None:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == phone)
            .order_by(Notification.created_at.desc()).limit(1))
        return row.params["code"] if row is not None else None


async def _user(app: Litestar, username: str) -> User:
    async with app.state.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


async def _verify(app: Litestar, username: str) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.username == username).values(phone_verified_at=clock.now()))


async def _sign_ins(app: Litestar, username: str) -> int:
    user = await _user(app, username)
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(SignIn).where(SignIn.user_id == user.id)) or 0)


def _field(answer: Any) -> str:
    return answer.json()["errors"][0]["field"]


async def test_a_person_changes_their_name_and_language(client: AsyncClient) -> None:
    headers = await _token(client)
    changed = await client.patch("/api/v1/me", headers=headers, json={"display_name": " 柳大爷 ", "language": "en"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["display_name"] == "柳大爷" and changed.json()["language"] == "en"
    assert changed.json()["tenants"][0]["tenant"] == "comm-a"  # the answer is /me's, roles and all
    only_language = await client.patch("/api/v1/me", headers=headers, json={"language": "zh-CN"})
    assert only_language.json()["display_name"] == "柳大爷" and only_language.json()["language"] == "zh-CN"
    for body, field in (({"language": "fr"}, "language"), ({"display_name": "  "}, "display_name"),
                        ({"display_name": "名" * 101}, "display_name")):
        refused = await client.patch("/api/v1/me", headers=headers, json=body)
        assert refused.status_code in (400, 422) and field in refused.text, (body, refused.text)
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["display_name"] == "柳大爷" and me["language"] == "zh-CN"
    assert (await client.patch("/api/v1/me", json={"language": "en"})).status_code == 401


async def test_a_new_phone_by_its_code_and_the_password_ends_every_other_session(
        app: Litestar, client: AsyncClient) -> None:
    elsewhere = await _token(client)
    here = await _token(client)
    sent = await client.post("/api/v1/me/phone/verification-codes", headers=here, json={"phone": NEW})
    assert sent.status_code == 202 and "验证码已发送" in sent.json()["message"]
    code = await _last_code(app, NEW)
    assert code is not None
    changed = await client.post("/api/v1/me/phone", headers=here, json={"phone": NEW, "code": code,
                                                                        "password": PASSWORD})
    fresh = _bearer(changed)
    for old in (elsewhere, here):
        assert (await client.get("/api/v1/me", headers=old)).status_code == 401
    assert (await client.get("/api/v1/me", headers=fresh)).json()["phone"] == NEW
    user = await _user(app, "resident")
    assert user.phone == NEW and user.phone_verified_at is not None
    await _token(client, NEW)  # the verified number now signs in as the account
    again = await client.post("/api/v1/me/phone", headers=fresh, json={"phone": NEW, "code": code,
                                                                       "password": PASSWORD})
    assert again.status_code == 422 and _field(again) == "phone"  # it is theirs already


async def test_a_wrong_code_or_password_changes_nothing_and_the_password_is_checked_first(
        app: Litestar, client: AsyncClient) -> None:
    headers = await _token(client)
    assert (await client.post("/api/v1/me/phone/verification-codes", headers=headers,
                              json={"phone": NEW})).status_code == 202
    code = await _last_code(app, NEW)
    assert code is not None
    wrong_password = await client.post("/api/v1/me/phone", headers=headers,
                                       json={"phone": NEW, "code": code, "password": "not-my-password-9"})
    assert wrong_password.status_code == 422 and _field(wrong_password) == "password"
    wrong_code = await client.post("/api/v1/me/phone", headers=headers,
                                   json={"phone": NEW, "code": "000000" if code != "000000" else "111111",
                                         "password": PASSWORD})
    assert wrong_code.status_code == 422 and _field(wrong_code) == "code"
    bad_phone = await client.post("/api/v1/me/phone/verification-codes", headers=headers, json={"phone": "12345"})
    assert bad_phone.status_code == 422 and _field(bad_phone) == "phone"
    assert (await _user(app, "resident")).phone == "13812341234"
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # the session goes on
    # The code survived the wrong password (checked before it is spent) and the one wrong try.
    done = await client.post("/api/v1/me/phone", headers=headers, json={"phone": NEW, "code": code,
                                                                        "password": PASSWORD})
    assert done.status_code == 200


async def test_a_number_another_account_verified_is_refused_without_saying_so(
        app: Litestar, client: AsyncClient) -> None:
    await _verify(app, "cstaff")
    headers = await _token(client)
    asked = {}
    for phone in (TAKEN, NEW):  # asking answers alike for a taken number and a free one
        answer = await client.post("/api/v1/me/phone/verification-codes", headers=headers, json={"phone": phone})
        asked[phone] = (answer.status_code, answer.json())
    assert asked[TAKEN] == asked[NEW]
    wrong = {}
    for phone in (TAKEN, NEW):  # and so does a wrong code: only the number's holder gets further
        answer = await client.post("/api/v1/me/phone", headers=headers,
                                   json={"phone": phone, "code": "99999", "password": PASSWORD})
        wrong[phone] = (answer.status_code, answer.json())
    assert wrong[TAKEN] == wrong[NEW] and wrong[TAKEN][0] == 422
    code = await _last_code(app, TAKEN)
    refused = await client.post("/api/v1/me/phone", headers=headers,
                                json={"phone": TAKEN, "code": code, "password": PASSWORD})
    assert refused.status_code == 422 and _field(refused) == "phone"
    assert refused.json()["errors"][0]["message"] == "该手机号无法使用"
    assert "cstaff" not in refused.text and "已被" not in refused.text
    assert (await _user(app, "resident")).phone == "13812341234"
    assert (await _user(app, "cstaff")).phone == TAKEN


async def test_the_code_goes_out_in_the_name_of_a_tenant_of_ones_own(app: Litestar, client: AsyncClient) -> None:
    headers = await _token(client)
    elsewhere = await client.post("/api/v1/me/phone/verification-codes", headers=headers,
                                  json={"phone": NEW, "tenant": "comm-b"})
    assert elsewhere.status_code == 422 and _field(elsewhere) == "tenant"
    nowhere = await client.post("/api/v1/me/phone/verification-codes", headers=await _token(client, "outsider"),
                                json={"phone": NEW})
    assert nowhere.status_code == 422 and _field(nowhere) == "tenant"
    assert await _last_code(app, NEW) is None
    assert (await client.post("/api/v1/me/phone/verification-codes", headers=headers,
                              json={"phone": NEW, "tenant": "comm-a"})).status_code == 202
    assert await _last_code(app, NEW) is not None


async def test_every_sign_in_is_logged_never_a_request_and_the_last_20_are_kept(
        app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(clock.now()) as stopped:
        headers = await _token(client, user_agent=WECHAT)
        for _ in range(3):
            assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        assert await _sign_ins(app, "resident") == 1  # /me writes nothing
        for n in range(1, KEPT_SIGN_INS + 3):
            stopped.advance(datetime.timedelta(minutes=1))
            headers = await _token(client, user_agent=f"agent-{n:02d}")
    assert await _sign_ins(app, "resident") == KEPT_SIGN_INS
    listed = (await client.get("/api/v1/me/sign-ins", headers=headers)).json()
    assert len(listed) == KEPT_SIGN_INS and all(row["method"] == "password" for row in listed)
    times = [row["at"] for row in listed]
    assert times == sorted(times, reverse=True)  # newest first; the oldest (the WeChat one and the next) went
    assert [row["user_agent"] for row in listed] == [f"agent-{n:02d}" for n in range(KEPT_SIGN_INS + 2, 2, -1)]
    assert await _sign_ins(app, "cstaff") == 0  # another person's log is their own
    other = await client.get("/api/v1/me/sign-ins", headers=await _token(client, "cstaff"))
    assert len(other.json()) == 1


async def test_sign_ins_by_code_and_by_joining_are_logged_with_the_browser(
        app: Litestar, client: AsyncClient) -> None:
    phone, password = "13700006666", "Qp7-harbour-lantern"
    version = (await client.get("/api/v1/tenants/comm-a/public/privacy")).json()["version"]
    await client.post("/api/v1/tenants/comm-a/public/verification-codes", json={"phone": phone, "purpose": "join"})
    joined = await client.post("/api/v1/tenants/comm-a/public/join", headers={"User-Agent": WECHAT}, json={
        "phone": phone, "code": await _last_code(app, phone), "name": "林女士", "password": password,
        "privacy_version": version, "accept_privacy": True})
    assert joined.status_code == 201, joined.text
    with clock.frozen(clock.now() + datetime.timedelta(minutes=2)):
        await client.post("/api/v1/tenants/comm-a/public/verification-codes",
                          json={"phone": phone, "purpose": "sign_in"})
        signed = await client.post("/api/v1/auth/code-token", json={"phone": phone,
                                                                    "code": await _last_code(app, phone)})
    listed = (await client.get("/api/v1/me/sign-ins", headers=_bearer(signed))).json()
    assert [row["method"] for row in listed] == ["code", "join"]
    assert listed[1]["browser"] == "WeChat" and listed[1]["system"] == "iPhone"


async def test_signing_out_elsewhere_voids_every_other_token_and_keeps_this_one(client: AsyncClient) -> None:
    phone_token = await _token(client)
    laptop = await _token(client)
    answer = await client.post("/api/v1/me/sign-out-others", headers=laptop)
    this_one = _bearer(answer)
    assert (await client.get("/api/v1/me", headers=phone_token)).status_code == 401
    assert (await client.get("/api/v1/me", headers=laptop)).status_code == 401  # replaced by the new one
    assert (await client.get("/api/v1/me", headers=this_one)).status_code == 200
    assert (await client.post("/api/v1/me/sign-out-others", headers=phone_token)).status_code == 401


async def test_the_data_download_holds_the_sign_ins_and_erasing_deletes_them(
        app: Litestar, client: AsyncClient) -> None:
    headers = await _token(client, user_agent=WECHAT)
    data = (await client.get("/api/v1/me/data", headers=headers)).json()
    assert [row["user_agent"] for row in data["sign_ins"]] == [WECHAT]
    assert data["sign_ins"][0]["method"] == "password" and data["sign_ins"][0]["at"]
    erased = await client.post("/api/v1/me/erase", headers=headers, json={"password": PASSWORD, "confirm": True})
    assert erased.status_code == 204
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SignIn)) == 0


def test_a_sign_in_keeps_the_network_and_a_name_for_the_browser() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("testclient") == "unknown"
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    assert device_of(chrome).browser == "Chrome" and device_of(chrome).system == "Windows"
    edge = chrome + " Edg/120.0"
    assert device_of(edge).browser == "Edge"
    assert device_of(WECHAT).browser == "WeChat" and device_of(WECHAT).system == "iPhone"
    assert device_of("") == device_of("something unknown") and device_of("").browser == ""
