"""HTTP routes of sign-in (by password or by a code sent to a phone), joining a community, passwords, the current
user, and tenant membership."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy import select

from core.accounts import phone_reads
from core.accounts.joining import (
    CODE_SENT,
    ask_for_code,
    join,
    privacy_notice,
    reset_password,
    sign_in_by_code,
)
from core.accounts.models import User
from core.accounts.personal import check_erase, erase, everything_about
from core.accounts.residency import ResidenceService
from core.accounts.schemas import (
    CodeRequest,
    CodeSent,
    CodeSignIn,
    EraseRequest,
    JoinedOut,
    JoinRequest,
    MemberGrant,
    MemberOut,
    MemberRoleOut,
    MeOut,
    PasswordChange,
    PasswordReset,
    PhoneReadOut,
    PrivacyOut,
    ResidenceConfirm,
    ResidentOut,
    TokenOut,
    TokenRequest,
)
from core.accounts.services import LoginService, MemberService, UserService, validate_role
from core.accounts.verification import LIFETIME
from core.authz.rules import grant_action
from core.errors import Unauthenticated
from core.http import (
    DbSession,
    Limit,
    Offset,
    Principal,
    PublicTenant,
    Scope,
    client_address,
    issue_token,
    provide_public_tenant,
    provide_tenant_scope,
)
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
        user = await _signed_in_user(request, db_session)
        grants = await grants_of(db_session, request.app.state.authorizer, user.id, user.authz_version,
                                 user.platform_admin)
        return await UserService(db_session).me(user, grants.by_tenant)


class MemberController(Controller):
    path = "/api/v1/tenants/{slug:str}/members"
    tags = ["成员 Members"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "member.read"}, summary="本租户的成员与角色")
    async def list_members(self, db_session: DbSession, tenant_scope: Scope, limit: Limit = 50,
                           offset: Offset = 0) -> OffsetPagination[MemberOut]:
        items, total = await MemberService(db_session, tenant_scope.tenant).page(
            tenant_scope.user_id, tenant_scope.can("person.phone"), limit, offset)
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


class ResidentController(Controller):
    path = "/api/v1/tenants/{slug:str}/residents"
    tags = ["成员 Members"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "member.read"},
         summary="本社区的居民及其小区、楼栋，是否已确认（unconfirmed=true 只列未确认的）")
    async def list_residents(self, db_session: DbSession, tenant_scope: Scope, unconfirmed: FromQuery[bool] = False,
                             compound: FromQuery[uuid.UUID | None] = None, limit: Limit = 50,
                             offset: Offset = 0) -> OffsetPagination[ResidentOut]:
        items, total = await ResidenceService(db_session, tenant_scope.tenant).page(
            tenant_scope.user_id, tenant_scope.can("person.phone"), limit, offset, unconfirmed=unconfirmed,
            compound=compound)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @post("/{user_id:uuid}/confirm", opt={"action": "residence.confirm"}, status_code=HTTP_200_OK,
          summary="确认居民的住址（给出小区或楼栋即先更正）")
    async def confirm_residence(self, db_session: DbSession, tenant_scope: Scope, user_id: FromPath[uuid.UUID],
                                data: JSONBody[ResidenceConfirm]) -> ResidentOut:
        service = ResidenceService(db_session, tenant_scope.tenant)
        correct = data.compound is not None or data.building is not None
        await service.confirm(user_id, tenant_scope.user_id, correct=correct, compound=data.compound,
                              building=data.building)
        return await service.get(tenant_scope.user_id, tenant_scope.can("person.phone"), user_id)

    @delete("/{user_id:uuid}/confirm", opt={"action": "residence.confirm"}, status_code=HTTP_200_OK,
            summary="撤销对居民住址的确认")
    async def unconfirm_residence(self, db_session: DbSession, tenant_scope: Scope,
                                  user_id: FromPath[uuid.UUID]) -> ResidentOut:
        service = ResidenceService(db_session, tenant_scope.tenant)
        await service.unconfirm(user_id, tenant_scope.user_id)
        return await service.get(tenant_scope.user_id, tenant_scope.can("person.phone"), user_id)


class JoinController(Controller):
    """A resident joins a community from a phone: a code, the privacy notice, their name and password."""

    path = "/api/v1/tenants/{slug:str}/public"  # before an account exists: public, as the tenant's public pages
    tags = ["加入 Join"]
    dependencies = {"tenant": Provide(provide_public_tenant)}

    @get("/privacy", exclude_from_auth=True, summary="本社区的隐私政策（加入时须同意其版本）")
    async def privacy(self, tenant: PublicTenant) -> PrivacyOut:
        notice = privacy_notice(tenant)
        return PrivacyOut(tenant=tenant.slug, tenant_name=tenant.name, version=notice.version, text=notice.text)

    @post("/verification-codes", exclude_from_auth=True, status_code=HTTP_202_ACCEPTED,
          summary="向手机发送验证码（加入、登录、重设密码）；无论手机号是否已注册，回答都相同")
    async def send(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                   data: JSONBody[CodeRequest]) -> CodeSent:
        await ask_for_code(db_session, tenant, data.phone, data.purpose, client=client_address(request),
                           secret=request.app.state.settings.secret_key)
        return CodeSent(message=CODE_SENT, expires_in=int(LIFETIME.total_seconds()))

    @post("/join", exclude_from_auth=True, status_code=HTTP_201_CREATED,
          summary="以手机验证码加入本社区，成为居民并登录")
    async def join(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                   data: JSONBody[JoinRequest]) -> JoinedOut:
        joined = await join(db_session, tenant, phone=data.phone, code=data.code, name=data.name,
                            password=data.password, privacy_version=data.privacy_version,
                            accept_privacy=data.accept_privacy, sms_consent=data.sms_consent,
                            compound=data.compound, building=data.building,
                            passwords=request.app.state.passwords, secret=request.app.state.settings.secret_key)
        audit_log.info("resident joined: user=%s tenant=%s existing=%s", joined.user.id, tenant.slug, joined.existing)
        token, lifetime = issue_token(request, joined.user)
        return JoinedOut(access_token=token, token_type="bearer",  # noqa: S106 (OAuth's token type)
                         expires_in=int(lifetime.total_seconds()), username=joined.user.username,
                         tenant=tenant.slug, existing_account=joined.existing)


class PasswordController(Controller):
    path = "/api/v1/auth"
    tags = ["登录 Auth"]

    @post("/code-token", exclude_from_auth=True, status_code=HTTP_200_OK, summary="手机号 + 验证码换取访问令牌")
    async def code_token(self, request: Request, db_session: DbSession, data: JSONBody[CodeSignIn]) -> TokenOut:
        user = await sign_in_by_code(db_session, data.phone, data.code, request.app.state.settings.secret_key)
        token, lifetime = issue_token(request, user)
        return TokenOut(access_token=token, token_type="bearer",  # noqa: S106 (OAuth's token type)
                        expires_in=int(lifetime.total_seconds()))

    @post("/password-reset", exclude_from_auth=True, status_code=HTTP_204_NO_CONTENT,
          summary="以手机验证码重设密码；此前的所有登录随即失效")
    async def reset(self, request: Request, db_session: DbSession, data: JSONBody[PasswordReset]) -> None:
        user = await reset_password(db_session, data.phone, data.code, data.password,
                                    passwords=request.app.state.passwords, secret=request.app.state.settings.secret_key)
        audit_log.info("password reset by code: user=%s", user.id)


class MyDataController(Controller):
    """A person's copy of everything Yishi holds about them, and erasing their account (PIPL arts. 44–47)."""

    path = "/api/v1/me"
    tags = ["个人信息 Personal information"]

    @get("/data", summary="下载我的全部个人信息（JSON）")
    async def data(self, request: Request, db_session: DbSession) -> Response[dict[str, Any]]:
        user = await _signed_in_user(request, db_session)
        audit_log.info("personal data downloaded: user=%s", user.id)
        return Response(await everything_about(db_session, user),
                        headers={"Content-Disposition": 'attachment; filename="yishi-my-data.json"'})

    @post("/erase", status_code=HTTP_204_NO_CONTENT,
          summary="注销账号：删除或匿名化个人信息；已反映的诉求作为公共记录保留，但不再与本人关联")
    async def erase(self, request: Request, db_session: DbSession, data: JSONBody[EraseRequest]) -> None:
        user = await _signed_in_user(request, db_session)
        check_erase(request.app.state.passwords, user, data.password, data.confirm)
        await erase(db_session, user)
        audit_log.info("account erased: user=%s", user.id)


async def _signed_in_user(request: Request, db_session: DbSession) -> User:
    principal: Principal = request.user
    user = await db_session.scalar(select(User).where(User.id == principal.user_id, User.active.is_(True),
                                                      User.session_version == principal.session_version))
    if user is None:
        raise Unauthenticated("账号不存在或已停用，请重新登录")
    return user


class MyPasswordController(Controller):
    path = "/api/v1/me/password"
    tags = ["登录 Auth"]

    @post("/", status_code=HTTP_200_OK, summary="修改密码（原密码 + 新密码）；其他登录随即失效，返回本次的新令牌")
    async def change(self, request: Request, db_session: DbSession, data: JSONBody[PasswordChange]) -> TokenOut:
        user = await _signed_in_user(request, db_session)
        await UserService(db_session).choose_password(user, data.new_password, passwords=request.app.state.passwords,
                                                      field="new_password", old=data.old_password)
        audit_log.info("password changed: user=%s", user.id)
        token, lifetime = issue_token(request, user)
        return TokenOut(access_token=token, token_type="bearer",  # noqa: S106 (OAuth's token type)
                        expires_in=int(lifetime.total_seconds()))


class PhoneReadController(Controller):
    """The log of unmasked phone numbers, for the district admin (PIPL: every read accounted for)."""

    path = "/api/v1/tenants/{slug:str}/phone-reads"
    tags = ["个人信息 Personal information"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "person.phone_log"},
         summary="手机号查看记录：谁在何时、在哪个页面看过哪些居民的完整手机号（本辖区及以下）")
    async def phone_reads(self, db_session: DbSession, tenant_scope: Scope, limit: Limit = 50,
                          offset: Offset = 0) -> OffsetPagination[PhoneReadOut]:
        async with tenant_scope.subtree():
            rows, total = await phone_reads.page(db_session, limit, offset)
        return OffsetPagination(items=[PhoneReadOut(at=r.created_at, tenant=slug, viewer=viewer, route=r.route,
                                                    subject_kind=r.subject_kind, subjects=r.subjects)
                                       for r, viewer, slug in rows], limit=limit, offset=offset, total=total)
