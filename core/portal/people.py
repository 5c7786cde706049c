"""Staff manage their community's people in the portal: who holds which role here (phones masked unless the
role may read them), accounts for grid workers, representatives and organisations (a one-time password they
must change at first sign-in), invitations by link, granting and revoking roles, deactivating an account;
above a community, links to the people of every tenant below. The rules are the services'."""

from __future__ import annotations

import secrets
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from core.accounts.invitations import InvitationService, invitation_path
from core.accounts.services import MemberService, UserService, new_username, validate_role
from core.authz.rules import ROLES, TENANT_ROLES, grant_action
from core.errors import DomainError
from core.portal.pages import Page, PageDep, provide_page
from core.tenancy.models import KIND_NAMES
from core.tenancy.scope import TenantScope
from core.tenancy.services import TenantService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PER_PAGE = 200  # a community's staff, workers and organisations; residents join by themselves
BELOW = 500  # the tenants below whose people pages a district's page links (a district has a few hundred)


class PeoplePages(Controller):
    path = "/t/{slug:str}/staff"
    dependencies = {"page": Provide(provide_page)}

    async def _people(self, page: Page, *, status_code: int = 200, errors: dict[str, str] | None = None,
                      created: dict[str, str] | None = None, form: dict[str, str] | None = None,
                      invited: str | None = None) -> Response:
        scope = await page.scope("member.read")
        members, total = await MemberService(page.session, page.tenant).page(scope.user_id, scope.can("person.phone"),
                                                                             PER_PAGE, 0)
        grantable = [role for role in TENANT_ROLES if scope.can(grant_action(role))]
        pending = (await InvitationService(scope).pending(PER_PAGE, 0))[0] if scope.can("member.manage") else []
        below = [] if page.tenant.kind == "community" else [
            t for t in (await TenantService(page.session).descendants(page.tenant, BELOW, 0))[0] if not t.archived]
        return page.render("staff/people.html", status_code=status_code, members=members, total=total,
                           roles=grantable, role_names=ROLES, errors=errors or {}, created=created,
                           form=form or {}, pending=pending, invited=invited, below=below, kind_names=KIND_NAMES,
                           me=page.user.username if page.user else None)

    @get("/people")
    async def people(self, page: PageDep) -> Response:
        return await self._people(page)

    @post("/people", status_code=200)
    async def create_person(self, request: Request, page: PageDep, data: Form) -> Response:
        """An account made by staff for someone who does not join by themselves (a grid worker, a property
        company): its first password is shown once, and must be changed at its first sign-in."""
        scope = await page.scope("member.manage")
        role = data.get("role", "")
        try:
            _may_grant(scope, role)
            username = data.get("username", "").strip() or new_username()
            password = secrets.token_urlsafe(9)
            users = UserService(page.session)
            user = await users.create(username, password, data.get("display_name", "").strip() or None,
                                      data.get("phone", "").strip() or None, passwords=request.app.state.passwords)
            user.must_change_password = True
            await MemberService(page.session, page.tenant).grant(user.username, role, scope.user_id)
            await page.session.flush()
        except DomainError as exc:
            await page.take_back(exc)
            return await self._people(page, status_code=exc.status, errors=page.errors(exc), form=data)
        return await self._people(page, created={"username": user.username, "password": password,
                                                 "display_name": user.display_name})

    @post("/people/grant", status_code=200)
    async def grant(self, page: PageDep, data: Form) -> Response:
        scope = await page.scope("member.manage")
        try:
            _may_grant(scope, data.get("role", ""))
            await MemberService(page.session, page.tenant).grant(data.get("user", ""), data.get("role", ""),
                                                                 scope.user_id)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._people(page, status_code=exc.status, errors=page.errors(exc, "user"))
        return await self._people(page)

    @post("/people/revoke", status_code=200)
    async def revoke(self, page: PageDep, data: Form) -> Response:
        scope = await page.scope("member.manage")
        try:
            _may_grant(scope, data.get("role", ""))
            await MemberService(page.session, page.tenant).revoke(data.get("user", ""), data.get("role", ""))
        except DomainError as exc:
            await page.take_back(exc)
            return await self._people(page, status_code=exc.status, errors=page.errors(exc, "user"))
        return await self._people(page)

    @post("/people/deactivate", status_code=200)
    async def deactivate(self, page: PageDep, data: Form) -> Response:
        return await self._set_active(page, data.get("user", ""), False)

    @post("/people/reactivate", status_code=200)
    async def reactivate(self, page: PageDep, data: Form) -> Response:
        return await self._set_active(page, data.get("user", ""), True)

    async def _set_active(self, page: Page, username: str, active: bool) -> Response:
        scope = await page.scope("member.manage")
        try:
            await MemberService(page.session, page.tenant).set_active(username, active, scope)
        except DomainError as exc:  # every refusal here is about the person named: said above the list
            await page.rollback()
            return await self._people(page, status_code=exc.status, errors=page.errors(exc, "user"))
        return await self._people(page)

    @post("/people/invitations", status_code=200)
    async def invite(self, request: Request, page: PageDep, data: Form) -> Response:
        """A link that gives the chosen role to whoever opens it first; shown once (only its hash is kept)."""
        scope = await page.scope("member.manage")
        try:
            days = int(data.get("days") or 7)
        except ValueError:
            days = 0  # refused by the service, naming the field
        try:
            _invitation, token = await InvitationService(scope).create(data.get("role", ""), data.get("note"), days)
        except DomainError as exc:
            await page.take_back(exc)
            # The invitation form's fields are named as the service's, and told apart from the new account's.
            errors = {f"invite_{k}" if k in ("role", "note", "days") else k: v for k, v in page.errors(exc, "role").items()}
            return await self._people(page, status_code=exc.status, errors=errors,
                                      form={f"invite_{k}": v for k, v in data.items()})
        link = str(request.base_url).rstrip("/") + invitation_path(page.tenant, token)
        return await self._people(page, invited=link)

    @post("/people/invitations/{invitation_id:str}/revoke", status_code=200)
    async def revoke_invitation(self, page: PageDep, invitation_id: FromPath[str]) -> Response:
        scope = await page.scope("member.manage")
        invitation = page.path_id(invitation_id)
        try:
            await InvitationService(scope).revoke(invitation)
        except DomainError as exc:
            await page.take_back(exc)
            return await self._people(page, status_code=exc.status, errors=page.errors(exc, "invitations"))
        return await self._people(page)


def _may_grant(scope: TenantScope, role: str) -> None:
    """A known role, and one the staff may grant (never one above their own)."""
    validate_role(role)
    scope.require(grant_action(role))


CONTROLLERS = [PeoplePages]
