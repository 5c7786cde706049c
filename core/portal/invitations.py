"""The page an invitation's link opens: what it invites to, and taking it, with a new account (no sign-in needed)
or with one's own. A used, expired or revoked link answers a page that says so. The rules are
`core.accounts.invitations`'."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from core.accounts.invitations import accept, open_invitation
from core.authz.rules import ROLES
from core.errors import DomainError
from core.http import issue_token
from core.portal.pages import Page, PageDep, provide_page, session_cookie

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class InvitePages(Controller):
    path = "/t/{slug:str}/invite"
    dependencies = {"page": Provide(provide_page)}

    async def _invitation(self, page: Page, token: str, *, status_code: int = 200,
                          errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Response:
        invitation = await open_invitation(page.session, token)
        return page.render("invite.html", status_code=status_code, invitation=invitation, token=token,
                           role_name=ROLES[invitation.role], errors=errors or {}, form=form or {})

    @get("/{token:str}")
    async def show(self, page: PageDep, token: FromPath[str]) -> Response:
        return await self._invitation(page, token)

    @post("/{token:str}", status_code=303)
    async def take(self, request: Request, page: PageDep, token: FromPath[str], data: Form) -> Response:
        """Signed in, the invitation goes to one's own account; otherwise to a new one, signed in at once."""
        try:
            accepted = await accept(page.session, page.tenant, token, user=page.user,
                                    username=data.get("username", ""), name=data.get("name", ""),
                                    password=data.get("password", ""), passwords=request.app.state.passwords,
                                    authorizer=request.app.state.authorizer)
        except DomainError as exc:
            await page.take_back(exc)  # a spent or unknown link is its own page
            return await self._invitation(page, token, status_code=exc.status, errors=page.errors(exc),
                                          form={k: v for k, v in data.items() if k != "password"})
        response = Redirect(f"{page.base}/me", status_code=303)
        if accepted.created:
            access, lifetime = issue_token(request, accepted.user)
            response.cookies.append(session_cookie(request, access, int(lifetime.total_seconds())))
        return response


CONTROLLERS = [InvitePages]
