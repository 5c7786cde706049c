"""HTTP routes of sign-in (by password or by a code sent to a phone), joining a community, passwords, the current
user, tenant membership (deactivating an account included) and invitations by link."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy import ColumnElement, and_, select

from core.accounts import phone_reads
from core.accounts.invitations import InvitationService, accept, invitation_path, open_invitation
from core.accounts.joining import (
    CODE_SENT,
    ask_for_code,
    join,
    privacy_notice,
    reset_password,
    sign_in_by_code,
)
from core.accounts.models import User
from core.accounts.my_account import (
    ask_for_phone_code,
    change_phone,
    choose_language,
    home_tenant,
    rename,
)
from core.accounts.personal import check_erase, erase, everything_about
from core.accounts.residency import ResidenceService
from core.accounts.schemas import (
    CodeRequest,
    CodeSent,
    CodeSignIn,
    EraseRequest,
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationCreated,
    InvitationInfo,
    InvitationOut,
    JoinedOut,
    JoinRequest,
    MemberGrant,
    MemberOut,
    MemberRoleOut,
    MemberStatusOut,
    MemberUpdate,
    MeOut,
    MeUpdate,
    PasswordChange,
    PasswordReset,
    PhoneChange,
    PhoneCodeRequest,
    PhoneReadOut,
    PrivacyOut,
    ResidenceConfirm,
    ResidentOut,
    SignInOut,
    TokenOut,
    TokenRequest,
)
from core.accounts.services import LoginService, MemberService, UserService, validate_role
from core.accounts.sign_ins import device_of, recent_sign_ins, sign_out_elsewhere
from core.accounts.verification import LIFETIME
from core.authz.rules import ROLES, grant_action
from core.errors import InvalidInput, Unauthenticated
from core.http import (
    DbSession,
    Limit,
    Offset,
    Principal,
    PublicTenant,
    Scope,
    bearer_principal,
    client_address,
    issue_token,
    provide_public_tenant,
    provide_tenant_scope,
    start_session,
)
from core.tenancy.scope import enter, grants_of

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
        token, lifetime = await start_session(request, db_session, user, "password")
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
        # With the user's grants known to this process, the user and their tenants' names are one query.
        known = request.app.state.authorizer.last_known(request.user.user_id)
        if known is None:
            return await _me(request, db_session, await _signed_in_user(request, db_session))
        found = await UserService(db_session).me_at_once(_signed_in(request.user), known)
        if found is None:
            raise Unauthenticated("账号不存在或已停用，请重新登录")
        user, out = found
        return out if out is not None else await _me(request, db_session, user)

    @patch("/", summary="修改我的姓名或消息语言（zh-CN / en）；未给出的字段不变")
    async def update(self, request: Request, db_session: DbSession, data: JSONBody[MeUpdate]) -> MeOut:
        user = await _signed_in_user(request, db_session)
        if data.display_name is not None:
            await rename(db_session, user, data.display_name)
        if data.language is not None:
            await choose_language(db_session, user, data.language)
        return await _me(request, db_session, user)

    @post("/phone/verification-codes", status_code=HTTP_202_ACCEPTED,
          summary="更换手机号：向新手机号发送验证码；无论该号码是否可用，回答都相同")
    async def phone_code(self, request: Request, db_session: DbSession, data: JSONBody[PhoneCodeRequest]) -> CodeSent:
        user = await _signed_in_user(request, db_session)
        tenant = await home_tenant(db_session, user, data.tenant)
        if tenant is None:
            raise InvalidInput("请指定以哪个租户的名义发送验证码", field="tenant")
        await enter(db_session, tenant, user.id)
        await ask_for_phone_code(db_session, tenant, user, data.phone, client=client_address(request),
                                 secret=request.app.state.settings.secret_key)
        return CodeSent(message=CODE_SENT, expires_in=int(LIFETIME.total_seconds()))

    @post("/phone", status_code=HTTP_200_OK,
          summary="更换手机号（新号码的验证码 + 当前密码）；其他登录随即失效，返回本次的新令牌")
    async def new_phone(self, request: Request, db_session: DbSession, data: JSONBody[PhoneChange]) -> TokenOut:
        user = await _signed_in_user(request, db_session)
        await change_phone(db_session, user, phone=data.phone, code=data.code, password=data.password,
                           passwords=request.app.state.passwords, secret=request.app.state.settings.secret_key)
        audit_log.info("phone changed: user=%s", user.id)
        return _token(request, user)

    @get("/sign-ins", summary="我最近的登录（最多 20 次）：时间、方式、网络与浏览器")
    async def sign_ins(self, request: Request, db_session: DbSession) -> list[SignInOut]:
        user = await _signed_in_user(request, db_session)
        out = []
        for row in await recent_sign_ins(db_session, user.id):
            device = device_of(row.user_agent)
            out.append(SignInOut(at=row.at, method=row.method, network=row.client, browser=device.browser,
                                 system=device.system, user_agent=row.user_agent))
        return out

    @post("/sign-out-others", status_code=HTTP_200_OK,
          summary="退出其他所有设备：此前签发的令牌与门户登录全部失效，返回本次的新令牌")
    async def sign_out_others(self, request: Request, db_session: DbSession) -> TokenOut:
        user = await _signed_in_user(request, db_session)
        await sign_out_elsewhere(db_session, user)
        audit_log.info("signed out on other devices: user=%s", user.id)
        return _token(request, user)


async def _me(request: Request, db_session: DbSession, user: User) -> MeOut:
    grants = await grants_of(db_session, request.app.state.authorizer, user.id, user.authz_version,
                             user.platform_admin)
    return await UserService(db_session).me(user, grants.by_tenant)


def _token(request: Request, user: User) -> TokenOut:
    """A new token for this device, after a change that ended every session of the user's."""
    token, lifetime = issue_token(request, user)
    return TokenOut(access_token=token, token_type="bearer",  # noqa: S106 (OAuth's token type)
                    expires_in=int(lifetime.total_seconds()))


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


    @patch("/{username:str}", opt={"action": "member.manage"},
           summary="停用或恢复账号：其全部角色须在本辖区及以下；停用即结束其全部登录，恢复前不能登录")
    async def update_member(self, db_session: DbSession, tenant_scope: Scope, username: FromPath[str],
                            data: JSONBody[MemberUpdate]) -> MemberStatusOut:
        user = await MemberService(db_session, tenant_scope.tenant).set_active(username, data.active, tenant_scope)
        return MemberStatusOut(user=user.username, active=user.active, tenant=tenant_scope.tenant.slug)


class InvitationController(Controller):
    """Links that invite someone to a role here: single-use, expiring (7 days unless said), revocable."""

    path = "/api/v1/tenants/{slug:str}/invitations"
    tags = ["成员 Members"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/", opt={"action": "member.manage"}, status_code=HTTP_201_CREATED,
          summary="生成邀请链接（一次有效，默认 7 天过期）；链接只在此时返回一次")
    async def create(self, request: Request, tenant_scope: Scope, data: JSONBody[InvitationCreate]) -> InvitationCreated:
        invitation, token = await InvitationService(tenant_scope).create(data.role, data.note, data.days)
        link = str(request.base_url).rstrip("/") + invitation_path(tenant_scope.tenant, token)
        return InvitationCreated(id=invitation.id, role=invitation.role, note=invitation.note,
                                 expires_at=invitation.expires_at, link=link, token=token)

    @get("/", opt={"action": "member.manage"}, summary="尚未使用、未撤销、未过期的邀请")
    async def pending(self, tenant_scope: Scope, limit: Limit = 50,
                      offset: Offset = 0) -> OffsetPagination[InvitationOut]:
        rows, total = await InvitationService(tenant_scope).pending(limit, offset)
        return OffsetPagination(items=[InvitationOut(id=p.invitation.id, role=p.invitation.role, note=p.invitation.note,
                                                     created_by=p.created_by, created_at=p.invitation.created_at,
                                                     expires_at=p.invitation.expires_at) for p in rows],
                                limit=limit, offset=offset, total=total)

    @delete("/{invitation_id:uuid}", opt={"action": "member.manage"}, summary="撤销邀请：链接随即失效")
    async def revoke(self, tenant_scope: Scope, invitation_id: FromPath[uuid.UUID]) -> None:
        await InvitationService(tenant_scope).revoke(invitation_id)


class PublicInvitationController(Controller):
    """Opening an invitation's link: no sign-in needed (a new account is made), or with one's own account."""

    path = "/api/v1/tenants/{slug:str}/public/invitations"
    tags = ["成员 Members"]
    dependencies = {"tenant": Provide(provide_public_tenant)}

    @get("/{token:str}", exclude_from_auth=True, summary="邀请链接所邀请的角色（已使用、撤销或过期：410）")
    async def show(self, db_session: DbSession, tenant: PublicTenant, token: FromPath[str]) -> InvitationInfo:
        invitation = await open_invitation(db_session, token)
        return InvitationInfo(tenant=tenant.slug, tenant_name=tenant.name, role=invitation.role,
                              role_name=ROLES[invitation.role], expires_at=invitation.expires_at)

    @post("/{token:str}/accept", exclude_from_auth=True, status_code=HTTP_201_CREATED,
          summary="接受邀请：带访问令牌时以该账号接受，否则以用户名、姓名和密码新建账号；返回访问令牌")
    async def accept(self, request: Request, db_session: DbSession, tenant: PublicTenant, token: FromPath[str],
                     data: JSONBody[InvitationAccept]) -> InvitationAccepted:
        user = None
        principal = bearer_principal(request)
        if principal is not None:
            user = await _user_of(db_session, principal)
        accepted = await accept(db_session, tenant, token, user=user, username=data.username, name=data.name,
                                password=data.password, passwords=request.app.state.passwords,
                                authorizer=request.app.state.authorizer)
        access, lifetime = issue_token(request, accepted.user)
        return InvitationAccepted(access_token=access, token_type="bearer",  # noqa: S106 (OAuth's token type)
                                  expires_in=int(lifetime.total_seconds()), username=accepted.user.username,
                                  tenant=tenant.slug, role=accepted.role, new_account=accepted.created)


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
          summary="向手机发送验证码（加入 join、登录 sign_in、重设密码 reset、不注册反映一次诉求 file）；无论手机号是否已注册，回答都相同")
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
        token, lifetime = await start_session(request, db_session, joined.user, "join")
        return JoinedOut(access_token=token, token_type="bearer",  # noqa: S106 (OAuth's token type)
                         expires_in=int(lifetime.total_seconds()), username=joined.user.username,
                         tenant=tenant.slug, existing_account=joined.existing)


class PasswordController(Controller):
    path = "/api/v1/auth"
    tags = ["登录 Auth"]

    @post("/code-token", exclude_from_auth=True, status_code=HTTP_200_OK, summary="手机号 + 验证码换取访问令牌")
    async def code_token(self, request: Request, db_session: DbSession, data: JSONBody[CodeSignIn]) -> TokenOut:
        user = await sign_in_by_code(db_session, data.phone, data.code, request.app.state.settings.secret_key)
        token, lifetime = await start_session(request, db_session, user, "code")
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
    return await _user_of(db_session, request.user)


def _signed_in(principal: Principal) -> ColumnElement[bool]:
    """The principal's user, while active and signed in under the token's session version."""
    return and_(User.id == principal.user_id, User.active.is_(True),
                User.session_version == principal.session_version)


async def _user_of(db_session: DbSession, principal: Principal) -> User:
    user = await db_session.scalar(select(User).where(_signed_in(principal)))
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
        return _token(request, user)


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
