"""A person's account pages: joining a community from a phone (and the QR code on the notice board that opens
that page), signing in by a code, resetting a forgotten password by a code, changing one's password, My account
(name, language, phone number, recent sign-ins, signing out elsewhere), and one's personal information (a copy of
all of it; erasing the account). The rules are `core.accounts.joining`'s, `core.accounts.my_account`'s and
`core.accounts.services`'; these pages read forms and show answers."""

from __future__ import annotations

import io
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import segno
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from core.accounts.joining import CODE_SENT, ask_for_code, join, privacy_notice, reset_password, sign_in_by_code
from core.accounts.models import User
from core.accounts.my_account import (
    ask_for_phone_code,
    change_phone,
    choose_language,
    rename,
)
from core.accounts.personal import check_erase, erase, everything_about
from core.accounts.services import UserService, mask_phone
from core.accounts.sign_ins import device_of, recent_sign_ins, sign_out_elsewhere
from core.errors import DomainError, InvalidInput, Unauthenticated
from core.http import client_address, issue_token, start_session
from core.notifications.messages import LANGUAGES
from core.portal.i18n import locale_of
from core.portal.pages import Page, PageDep, language_cookie, provide_page, session_cookie
from core.portal.public import safe_next
from core.tenancy.services import CompoundService, resolve_place

audit_log = logging.getLogger("yishi.audit")
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass
class JoinForm:
    phone: str = ""
    name: str = ""
    compound: str = ""
    building: str = ""
    sms_consent: bool = False  # consent is asked for, never assumed: unticked until the person ticks it


def _uuid(value: str, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput("本社区没有这个小区", field=field) from None  # a building's id is checked with it


async def _signed_in(request: Request, page: Page, user: User, method: str, to: str) -> Response:
    token, lifetime = await start_session(request, page.session, user, method)
    response = Redirect(to, status_code=303)
    response.cookies.append(session_cookie(request, token, int(lifetime.total_seconds())))
    return response


def _stay_signed_in(request: Request, response: Response, user: User) -> Response:
    """Every other session of the user's ended with a change: this one goes on, under the new session version."""
    token, lifetime = issue_token(request, user)
    response.cookies.append(session_cookie(request, token, int(lifetime.total_seconds())))
    return response


class AccountPages(Controller):
    path = "/t/{slug:str}"
    dependencies = {"page": Provide(provide_page)}

    # --- joining ------------------------------------------------------------------------------------------

    async def _join_page(self, page: Page, form: JoinForm, *, status_code: int = 200, sent: bool = False,
                         errors: dict[str, str] | None = None) -> Response:
        compounds = await CompoundService(page.session).all() if page.tenant.kind == "community" else []
        return page.render("account/join.html", status_code=status_code, form=form, sent=sent, errors=errors or {},
                           notice=privacy_notice(page.tenant), compounds=compounds)

    @get("/join")
    async def join_form(self, page: PageDep, compound: FromQuery[str] = "") -> Response:
        return await self._join_page(page, JoinForm(compound=compound))

    @get("/join/qr.svg")
    async def join_qr(self, request: Request, page: PageDep, compound: FromQuery[str] = "") -> Response[bytes]:
        """The join page's address as a QR code, to print for the notice board (per compound with `?compound=`)."""
        target = f"{request.app.state.settings.public_url.rstrip('/')}{page.base}/join"
        if compound:  # one of this community's compounds, or a refusal: never a code that opens a wrong form
            place, _ = await resolve_place(page.session, _uuid(compound, "compound"), None)
            target += "?" + urlencode({"compound": str(place)})
        out = io.BytesIO()
        segno.make(target, error="m").save(out, kind="svg", scale=8, border=2, title=page.tenant.name)
        return Response(out.getvalue(), media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=3600"})

    @post("/join/code", status_code=200)
    async def join_code(self, request: Request, page: PageDep, data: Form) -> Response:
        form = _join_form(data)
        try:
            await _ask(request, page, form.phone.strip(), "join")
        except DomainError as exc:
            await page.take_back(exc)
            return await self._join_page(page, form, status_code=exc.status, errors=page.errors(exc, "phone"))
        return await self._join_page(page, form, sent=True)

    @post("/join", status_code=303)
    async def join(self, request: Request, page: PageDep, data: Form) -> Response:
        form = _join_form(data)
        try:
            joined = await join(
                page.session, page.tenant, phone=form.phone.strip(), code=data.get("code", "").strip(),
                name=form.name, password=data.get("password", ""), privacy_version=data.get("privacy_version", ""),
                accept_privacy=data.get("accept_privacy") == "on", sms_consent=form.sms_consent,
                compound=_uuid(form.compound, "compound"), building=_uuid(form.building, "building"),
                passwords=request.app.state.passwords, secret=request.app.state.settings.secret_key)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._join_page(page, form, status_code=exc.status, sent=True, errors=page.errors(exc))
        return await _signed_in(request, page, joined.user, "join", f"{page.base}/concerns/new")

    # --- signing in by a code ---------------------------------------------------------------------------------

    @post("/login/code", status_code=200)
    async def login_code(self, request: Request, page: PageDep, data: Form) -> Response:
        phone = data.get("phone", "").strip()
        try:
            await _ask(request, page, phone, "sign_in")
        except DomainError as exc:
            await page.take_back(exc)
            return page.render("login.html", status_code=exc.status, next=data.get("next", ""), username="",
                               error=None, phone=phone, code_error=page.refusal(exc))
        return page.render("login.html", next=data.get("next", ""), username="", error=None, phone=phone,
                           code_sent=page._(CODE_SENT))

    @post("/login/by-code", status_code=303)
    async def login_by_code(self, request: Request, page: PageDep, data: Form) -> Response:
        phone = data.get("phone", "").strip()
        try:
            user = await sign_in_by_code(page.session, phone, data.get("code", ""), request.app.state.settings.secret_key)
        except DomainError as exc:
            await page.take_back(exc)
            return page.render("login.html", status_code=exc.status, next=data.get("next", ""), username="",
                               error=None, phone=phone, code_sent=None, code_error=page.refusal(exc))
        return await _signed_in(request, page, user, "code", safe_next(page, data.get("next", "")))

    # --- a forgotten password ---------------------------------------------------------------------------------

    @get("/password/reset")
    async def reset_form(self, page: PageDep) -> Response:
        return page.render("account/reset.html", phone="", sent=False, errors={}, done=False)

    @post("/password/reset/code", status_code=200)
    async def reset_code(self, request: Request, page: PageDep, data: Form) -> Response:
        phone = data.get("phone", "").strip()
        try:
            await _ask(request, page, phone, "reset")
        except DomainError as exc:
            await page.take_back(exc)
            return page.render("account/reset.html", status_code=exc.status, phone=phone, sent=False,
                               errors=page.errors(exc, "phone"), done=False)
        return page.render("account/reset.html", phone=phone, sent=True, errors={}, done=False)

    @post("/password/reset", status_code=200)
    async def reset(self, request: Request, page: PageDep, data: Form) -> Response:
        phone = data.get("phone", "").strip()
        try:
            await reset_password(page.session, phone, data.get("code", ""), data.get("password", ""),
                                 passwords=request.app.state.passwords, secret=request.app.state.settings.secret_key)
        except DomainError as exc:
            await page.take_back(exc)
            return page.render("account/reset.html", status_code=exc.status, phone=phone, sent=True,
                               errors=page.errors(exc), done=False)
        return page.render("account/reset.html", phone=phone, sent=False, errors={}, done=True)

    # --- changing one's password ------------------------------------------------------------------------------

    @get("/me/password")
    async def password_form(self, page: PageDep) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        return page.render("account/password.html", errors={}, done=False)

    @post("/me/password", status_code=200)
    async def change_password(self, request: Request, page: PageDep, data: Form) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        user = page.user
        try:
            await UserService(page.session).choose_password(
                user, data.get("new_password", ""), passwords=request.app.state.passwords, field="new_password",
                old=data.get("old_password", ""))
        except DomainError as exc:
            await page.take_back(exc)
            return page.render("account/password.html", status_code=exc.status, errors=page.errors(exc), done=False)
        return _stay_signed_in(request, page.render("account/password.html", errors={}, done=True), user)

    # --- my account and my data -------------------------------------------------------------------------------

    async def _account_page(self, page: Page, *, status_code: int = 200, errors: dict[str, str] | None = None,
                            done: str | None = None, new_phone: str = "", phone_sent: bool = False) -> Response:
        user = page.user
        assert user is not None
        sign_ins = [(row, device_of(row.user_agent)) for row in await recent_sign_ins(page.session, user.id)]
        return page.render("account/account.html", status_code=status_code, phone=mask_phone(user.phone),
                           errors=errors or {}, done=done, new_phone=new_phone, phone_sent=phone_sent,
                           sign_ins=sign_ins, languages=LANGUAGES)

    @get("/me/account")
    async def account(self, page: PageDep) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        return await self._account_page(page)

    @post("/me/account", status_code=200)
    async def update_account(self, page: PageDep, data: Form) -> Response:
        """The person's name and the language of their messages (and of the portal on this device)."""
        if page.user is None:
            raise _sign_in_first(page)
        user = page.user
        try:
            await rename(page.session, user, data.get("display_name", ""))
            await choose_language(page.session, user, data.get("language", ""))
        except DomainError as exc:
            await page.take_back(exc)
            return await self._account_page(page, status_code=exc.status, errors=page.errors(exc))
        page.locale = locale_of(user.language)  # this page already in the language chosen
        response = await self._account_page(page, done="profile")
        response.cookies.append(language_cookie(page.locale))
        return response

    @post("/me/account/phone/code", status_code=200)
    async def phone_code(self, request: Request, page: PageDep, data: Form) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        phone = data.get("phone", "").strip()
        try:
            await ask_for_phone_code(page.session, page.tenant, page.user, phone, client=client_address(request),
                                     secret=request.app.state.settings.secret_key)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._account_page(page, status_code=exc.status, errors=page.errors(exc, "phone"),
                                            new_phone=phone)
        return await self._account_page(page, new_phone=phone, phone_sent=True)

    @post("/me/account/phone", status_code=200)
    async def new_phone(self, request: Request, page: PageDep, data: Form) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        user, phone = page.user, data.get("phone", "").strip()
        try:
            await change_phone(page.session, user, phone=phone, code=data.get("code", ""),
                               password=data.get("password", ""), passwords=request.app.state.passwords,
                               secret=request.app.state.settings.secret_key)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._account_page(page, status_code=exc.status, errors=page.errors(exc),
                                            new_phone=phone, phone_sent=True)
        audit_log.info("phone changed: user=%s", user.id)
        return _stay_signed_in(request, await self._account_page(page, done="phone"), user)

    @post("/me/account/sign-out-others", status_code=200)
    async def sign_out_others(self, request: Request, page: PageDep) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        await sign_out_elsewhere(page.session, page.user)
        audit_log.info("signed out on other devices: user=%s", page.user.id)
        return _stay_signed_in(request, await self._account_page(page, done="others"), page.user)

    @get("/me/data")
    async def my_data(self, page: PageDep) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        return page.render("account/data.html", data=await everything_about(page.session, page.user), errors={})

    @get("/me/data.json")
    async def my_data_file(self, page: PageDep) -> Response[bytes]:
        if page.user is None:
            raise _sign_in_first(page)
        audit_log.info("personal data downloaded: user=%s", page.user.id)
        body = json.dumps(await everything_about(page.session, page.user), ensure_ascii=False, indent=2)
        return Response(body.encode(), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="yishi-my-data.json"'})

    @post("/me/data/erase", status_code=200)
    async def erase_account(self, request: Request, page: PageDep, data: Form) -> Response:
        if page.user is None:
            raise _sign_in_first(page)
        user = page.user
        try:
            check_erase(request.app.state.passwords, user, data.get("password", ""), data.get("confirm") == "on")
        except DomainError as exc:
            await page.take_back(exc)
            return page.render("account/data.html", status_code=exc.status,
                               data=await everything_about(page.session, user), errors=page.errors(exc))
        await erase(page.session, user)
        audit_log.info("account erased: user=%s", user.id)
        page.user = None
        response = page.render("account/erased.html")
        response.cookies.append(session_cookie(request, None, 0))
        return response


async def _ask(request: Request, page: Page, phone: str, purpose: str) -> None:
    await ask_for_code(page.session, page.tenant, phone, purpose, client=client_address(request),
                       secret=request.app.state.settings.secret_key)


def _sign_in_first(page: Page) -> DomainError:
    return Unauthenticated(page._("Please sign in first."))


def _join_form(data: dict[str, str]) -> JoinForm:
    return JoinForm(phone=data.get("phone", ""), name=data.get("name", ""), compound=data.get("compound", ""),
                    building=data.get("building", ""), sms_consent=data.get("sms_consent") == "on")


CONTROLLERS = [AccountPages]
