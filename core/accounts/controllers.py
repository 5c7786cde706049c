"""HTTP routes of sign-in, the current user, and tenant membership."""

from __future__ import annotations

import logging

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select

from core.accounts.models import User
from core.accounts.schemas import MemberGrant, MemberOut, MemberRoleOut, MeOut, TokenOut, TokenRequest
from core.accounts.services import LoginService, MemberService, UserService, validate_role
from core.authz.rules import grant_action
from core.errors import Unauthenticated
from core.http import DbSession, Limit, Offset, Principal, Scope, client_address, issue_token, provide_tenant_scope
from core.tenancy.scope import grants_of

audit_log = logging.getLogger("yishi.audit")


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["登录 Auth"]

    @post("/token", exclude_from_auth=True, status_code=HTTP_200_OK, summary="用户名密码换取访问令牌")
    async def issue_token(self, request: Request, db_session: DbSession, data: JSONBody[TokenRequest]) -> TokenOut:
        settings = request.app.state.settings
        service = LoginService(db_session, request.app.state.passwords, settings.login_max_failures,
                               settings.login_window_seconds)
        user = await service.authenticate(data.username, data.password, client_address(request))
        token, lifetime = issue_token(request, user)
        return TokenOut(access_token=token, token_type="bearer",  # noqa: S106 (OAuth's token type, not a secret)
                        expires_in=int(lifetime.total_seconds()))

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="退出登录：此前签发的令牌（及门户登录）立即失效")
    async def sign_out(self, request: Request, db_session: DbSession) -> None:
        principal: Principal = request.user
        if not await UserService(db_session).sign_out(principal.user_id, principal.session_version):
            raise Unauthenticated("已退出登录，请重新登录")


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["登录 Auth"]

    @get("/", summary="当前用户及其在各租户的角色")
    async def me(self, request: Request, db_session: DbSession) -> MeOut:
        principal: Principal = request.user
        user_id = principal.user_id
        user = await db_session.scalar(select(User).where(User.id == user_id, User.active.is_(True),
                                                          User.session_version == principal.session_version))
        if user is None:
            raise Unauthenticated("账号不存在或已停用，请重新登录")
        grants = await grants_of(db_session, request.app.state.authorizer, user_id, user.authz_version,
                                 user.platform_admin)
        return await UserService(db_session).me(user, grants.by_tenant)


class MemberController(Controller):
    path = "/api/v1/tenants/{slug:str}/members"
    tags = ["成员 Members"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "member.read"}, summary="本租户的成员与角色")
    async def list_members(self, db_session: DbSession, tenant_scope: Scope, limit: Limit = 50,
                           offset: Offset = 0) -> OffsetPagination[MemberOut]:
        show_phone = tenant_scope.can("person.phone")
        items, total = await MemberService(db_session, tenant_scope.tenant).page(show_phone, limit, offset)
        if show_phone and items:
            audit_log.info("unmasked phone numbers read: user=%s tenant=%s count=%d",
                           tenant_scope.user_id, tenant_scope.tenant.slug, len(items))
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @post("/", opt={"action": "member.manage"}, summary="授予角色（已拥有时原样返回 200）")
    async def grant_role(self, db_session: DbSession, tenant_scope: Scope,
                         data: JSONBody[MemberGrant]) -> Response[MemberRoleOut]:
        validate_role(data.role)
        tenant_scope.require(grant_action(data.role))
        _, created = await MemberService(db_session, tenant_scope.tenant).grant(data.user, data.role, tenant_scope.user_id)
        body = MemberRoleOut(user=data.user, role=data.role, tenant=tenant_scope.tenant.slug)
        return Response(body, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete("/{username:str}/{role:str}", opt={"action": "member.manage"}, summary="撤销角色")
    async def revoke_role(self, db_session: DbSession, tenant_scope: Scope, username: FromPath[str], role: FromPath[str]) -> None:
        validate_role(role)
        tenant_scope.require(grant_action(role))
        await MemberService(db_session, tenant_scope.tenant).revoke(username, role)
