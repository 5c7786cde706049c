"""What every portal page shares: the tenant from the path, who is signed in (session cookie) and their unread
count (the bell), the language, rendering, and turning refusals into pages (an error next to its field, a
sign-in redirect, a 404 page)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.security.jwt import Token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.errors import DomainError, InvalidInputs, NotFound, Unauthenticated, is_refused_value
from core.http import DbSession, Principal, enter_tenant, principal_of
from core.i18n import in_language
from core.inputs import refused_request
from core.notifications.services import unread_count
from core.portal.i18n import LANG_COOKIE, LOCALES, gettext_for, page_locale, request_locale
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope, enter

SESSION_COOKIE = "yishi_session"
# A handler's opt: it counts the bell itself (the inbox, whose own query has the count; marking read, which
# changes it), so the page does not count it beforehand too.
COUNTS_BELL = "counts_bell"
FORM_REFUSALS = (400, 409, 422)  # refusals a form shows next to its fields; the rest are error pages
# What an account someone else made may open before it has chosen its own password.
BEFORE_A_NEW_PASSWORD = ("/me/password", "/logout")


class PasswordChangeRequired(Unauthenticated):
    """The signed-in account was made by someone else, and must choose its own password first."""


def signed_in_principal(request: Request) -> Principal | None:
    """The user (and session version) the session cookie names, if it carries a valid token of ours."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings = request.app.state.settings
    try:
        token = Token.decode(raw, settings.secret_key, "HS256", audience=settings.token_audience)
    except NotAuthorizedException:
        return None
    return principal_of(token)


def session_cookie(request: Request, token: str | None, max_age: int) -> Cookie:
    """HttpOnly and SameSite=Lax always; Secure wherever the site is served over HTTPS (production)."""
    secure = request.app.state.settings.env == "production"
    return Cookie(key=SESSION_COOKIE, value=token or "", max_age=max_age if token else 0, path="/", httponly=True,
                  samesite="lax", secure=secure)


def language_cookie(locale: str) -> Cookie:
    """The reader's language on this device (it wins over their account's)."""
    return Cookie(key=LANG_COOKIE, value=locale, max_age=365 * 86400, path="/", samesite="lax")


@dataclass(frozen=True)
class Pager:
    """Which slice of a long list a page shows: `?p=` numbers the pages from 1; `_pager.html` links them."""

    number: int
    per_page: int
    total: int = 0

    @classmethod
    def at(cls, p: int, per_page: int) -> Pager:
        return cls(max(1, p), per_page)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def query(self) -> str:
        """What a form on this page adds to its action to come back here after a refusal (nothing on page 1)."""
        return f"?p={self.number}" if self.number > 1 else ""

    def of(self, total: int) -> Pager:
        return replace(self, total=total)


@dataclass
class Page:
    """The request's portal: its tenant, the signed-in user (if any), the language and its gettext."""

    request: Request
    session: AsyncSession
    tenant: Tenant
    user: User | None
    locale: str
    _entered: TenantScope | None = None  # the tenant once entered: later actions are decided without a query
    unread: int | None = None  # the bell's number: the signed-in user's unread notifications, in every tenant

    @property
    def _(self):
        return gettext_for(self.locale)

    @property
    def base(self) -> str:
        return f"/t/{self.tenant.slug}"

    async def scope(self, action: str) -> TenantScope:
        """Authorize `action` for the signed-in user here, as the API does (same roles, same walls)."""
        if self.user is None:
            raise Unauthenticated(self._("Please sign in first."))
        if self._entered is None:  # the portal's tenants are never archived: entering is all enter_tenant checks
            self._entered = await enter_tenant(self.request, self.session, self.tenant.slug, None, self.principal)
        self._entered.require(action)
        return self._entered

    @property
    def principal(self) -> Principal:
        """The signed-in user as the API's token would name them (callers check `user` first)."""
        assert self.user is not None
        return Principal(self.user.id, self.user.session_version)

    def path_id(self, raw: str, missing: str | None = None) -> uuid.UUID:
        """An id from the page's path: a mistyped one is a page not found (404), not a malformed request."""
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise NotFound(missing or self._("There is no such page here.")) from None

    async def rollback(self) -> None:
        """Undo what a refused form wrote, keeping the page usable: its tenant and user reloaded (a rollback
        expires them). The session still acts in the page's tenant: a form that acted in another did so in a
        block of `core.tenancy.scope`, which gave the tenant back however it ended."""
        await self.session.rollback()
        await self.session.refresh(self.tenant)
        if self.user is not None:
            await self.session.refresh(self.user)
        self._entered = None

    async def take_back(self, exc: DomainError) -> None:
        """A service refused a form: undo what it wrote. A refusal of the input (400, 409, 422) is for the form
        to show next to its field; any other (403, 404) is re-raised, to become its error page."""
        await self.rollback()
        if exc.status not in FORM_REFUSALS:
            raise exc

    def phrase(self, item: dict[str, Any]) -> str:
        """Generated text (`core.i18n.phrase`) in the reader's language; plain `text` as it is."""
        if "template" in item:
            return in_language(item["template"], item.get("params") or {}, self._)
        return str(item.get("text", ""))

    def refusal(self, exc: DomainError) -> str:
        """What a service refused, in the reader's language (the portal's own refusals are already)."""
        return exc.in_language(self._)

    def errors(self, exc: DomainError, default: str = "form") -> dict[str, str]:
        """A refusal as a form shows it: each refused field's message, by the field's name in the form."""
        if isinstance(exc, InvalidInputs):
            return exc.by_field(self._)
        return {(exc.field or default).replace(".", "_"): self.refusal(exc)}

    async def can(self, action: str) -> bool:
        if self.user is None:
            return False
        try:
            await self.scope(action)
        except DomainError:
            return False
        return True

    def render(self, template: str, status_code: int = 200, **context: Any) -> Template:
        context.update(page=self, tenant=self.tenant, user=self.user, _=self._, base=self.base,
                       locale=self.locale, locales=LOCALES, portal=self.tenant.portal or {})
        response = Template(template_name=template, context=context, status_code=status_code)
        chosen = self.request.query_params.get("lang")
        if chosen in LOCALES:  # remember the reader's choice of language
            response.cookies.append(language_cookie(chosen))
        return response


async def provide_page(request: Request, db_session: DbSession, slug: FromPath[str]) -> Page:
    tenant = await db_session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.archived.is_(False)))
    locale = request_locale(request)
    if tenant is None:
        _ = gettext_for(locale)
        raise NotFound(_("There is no such community portal."))
    principal = signed_in_principal(request)
    user = None
    if principal is not None:  # a cookie from before its user signed out (another session version) signs in no one
        user = await db_session.scalar(select(User).where(User.id == principal.user_id, User.active.is_(True),
                                                          User.session_version == principal.session_version))
    if user is not None:
        locale = page_locale(request, user.language)
    if user is not None and user.must_change_password and not request.url.path.endswith(BEFORE_A_NEW_PASSWORD):
        raise PasswordChangeRequired(gettext_for(locale)("Please change your password before you go on."))
    await enter(db_session, tenant, user.id if user else None)
    page = Page(request, db_session, tenant, user, locale)
    if user is not None and _shows_bell(request):
        page.unread = await unread_count(db_session, user.id)
    return page


def _shows_bell(request: Request) -> bool:
    """Whether the answer may be a whole page (the layout, with its bell): an htmx request is answered with a
    fragment, and a handler that counts the bell itself needs no count first."""
    return request.headers.get("hx-request") != "true" and not request.route_handler.opt.get(COUNTS_BELL)




def _slug_of(request: Request) -> str | None:
    parts = request.url.path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "t" else None


def portal_error(request: Request, exc: Exception) -> Response:
    """Refusals as pages: sign in when needed, otherwise a page saying what went wrong, in the reader's language."""
    _ = gettext_for(request_locale(request))
    slug = _slug_of(request)
    if isinstance(exc, PasswordChangeRequired) and slug:
        return Redirect(f"/t/{slug}/me/password")
    if isinstance(exc, Unauthenticated) and slug:
        return Redirect(f"/t/{slug}/login?next={quote(request.url.path)}")
    if isinstance(exc, ValidationException):  # a mistyped query: say which part, as the API does
        exc = refused_request(request, exc)
    if isinstance(exc, DomainError):
        status, message = exc.status, exc.in_language(_)
    elif isinstance(exc, HTTPException):
        status, message = exc.status_code, _("The page could not be shown.")
    elif is_refused_value(exc):  # what a schema should have refused: still the person's input, not our fault
        status, message = 422, _("Something you entered is too long or out of range.")
    else:
        request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
        status, message = 500, _("Something went wrong on our side. Please try again later.")
    titles = {401: _("Please sign in"), 403: _("Not allowed"), 404: _("Page not found"), 409: _("Not possible now"),
              410: _("No longer valid")}
    return Template(template_name="error.html", status_code=status, context={
        **tenantless_context(request), "status": status, "title": titles.get(status, _("Something went wrong")),
        "message": message,
    })


def tenantless_context(request: Request) -> dict[str, Any]:
    """What `base.html` needs on a page outside any tenant's portal (the front door, an error page)."""
    locale = request_locale(request)
    return {"_": gettext_for(locale), "locale": locale, "locales": LOCALES, "base": "", "tenant": None,
            "user": None, "page": None, "portal": {}}


PageDep = NamedDependency[Page]
