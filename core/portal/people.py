"""Staff manage their community's people in the portal: who holds which role here (phones masked unless the
role may read them), accounts for grid workers, representatives and organisations (a one-time password they
must change at first sign-in), granting and revoking roles. The rules are the services'."""

from __future__ import annotations

import secrets
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.accounts.services import MemberService, UserService, new_username, validate_role
from core.authz.rules import ROLES, TENANT_ROLES, grant_action
from core.errors import DomainError
from core.portal.pages import Page, PageDep, provide_page
from core.tenancy.scope import TenantScope

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PER_PAGE = 200  # a community's staff, workers and organisations; residents join by themselves


class PeoplePages(Controller):
    path = "/t/{slug:str}/staff"
    dependencies = {"page": Provide(provide_page)}

    async def _people(self, page: Page, *, status_code: int = 200, errors: dict[str, str] | None = None,
                      created: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Response:
        scope = await page.scope("member.read")
        members, total = await MemberService(page.session, page.tenant).page(scope.user_id, scope.can("person.phone"),
                                                                             PER_PAGE, 0)
        grantable = [role for role in TENANT_ROLES if scope.can(grant_action(role))]
        return page.render("staff/people.html", status_code=status_code, members=members, total=total,
                           roles=grantable, role_names=ROLES, errors=errors or {}, created=created,
                           form=form or {})

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


def _may_grant(scope: TenantScope, role: str) -> None:
    """A known role, and one the staff may grant (never one above their own)."""
    validate_role(role)
    scope.require(grant_action(role))


CONTROLLERS = [PeoplePages]
