"""Residents join a community by themselves, on a phone: a code proves the number, they accept the community's
privacy notice (its version recorded) and, separately, SMS notices, and become its `resident`. The same code
signs a person in or lets them choose a new password. Joining, and signing in by code, claims the concerns that
phone filed without an account (`core.concerns.by_phone`)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import Consent, Residence, RoleAssignment, User
from core.accounts.services import (
    Passwords,
    UserService,
    hints_of,
    new_username,
    password_problems,
    phone_problems,
)
from core.accounts.verification import check_code, send_code, validate_purpose
from core.concerns.models import Concern
from core.db import ALL_TENANTS, TenantContext
from core.errors import Conflict, InvalidInput, InvalidInputs, Unauthenticated
from core.events import append_event
from core.notifications.models import NotificationPreference
from core.notifications.outbox import DEFAULT_CHANNELS
from core.tenancy.models import Tenant
from core.tenancy.scope import acting_for, within
from core.tenancy.services import resolve_place, validate_name

RESIDENT = "resident"
# What a code may be asked for without signing in (a new phone number is asked for from My account).
PUBLIC_PURPOSES = ("join", "sign_in", "reset", "file")
# What a request for a code is answered, whether or not the phone has an account.
CODE_SENT = "如该手机号可以使用，验证码已发送，5 分钟内有效"
DEFAULT_PRIVACY_NOTICE = (
    "{tenant}通过“议事”平台收集您的手机号、姓名和您选择填写的小区、楼栋，用于核实身份、受理和答复您反映的诉求、"
    "通知协商会议和办理结果。您反映的内容在公开页面上只显示经过隐去个人信息的摘要；您的手机号只有经授权的社区工作人员"
    "可以查看，每次查看都有记录。您可以随时在“我的账号”中下载您的全部个人信息或注销账号；注销后您的个人信息将被删除或"
    "匿名化，已反映的诉求作为公共记录保留，但不再与您关联。已办结诉求中的手机号在保存期限届满后自动删除。"
)


@dataclass(frozen=True)
class PrivacyNotice:
    text: str
    version: str  # of the text itself: any change to the notice is a new version, to be accepted anew


def privacy_notice(tenant: Tenant) -> PrivacyNotice:
    """The tenant's privacy notice (its portal settings, or the platform's default in its name)."""
    text = (tenant.portal or {}).get("privacy_notice") or DEFAULT_PRIVACY_NOTICE.format(tenant=tenant.name)
    return PrivacyNotice(text, hashlib.sha256(text.encode()).hexdigest()[:12])


async def ask_for_code(session: AsyncSession, tenant: Tenant, phone: str, purpose: str, *, client: str,
                       secret: str) -> None:
    """Send a code to `phone` in `tenant`'s name. A code for signing in or resetting reaches only a phone with an
    account; the asker is answered the same either way (`CODE_SENT`). A code for a new phone number is asked for
    from My account, signed in (`core.accounts.my_account`), never here."""
    validate_purpose(purpose)
    if purpose not in PUBLIC_PURPOSES:
        raise InvalidInput("验证码用途须为 {choices} 之一", field="purpose", choices=", ".join(PUBLIC_PURPOSES))
    problems = phone_problems(phone)
    if problems:
        raise InvalidInputs(problems)
    deliver = purpose in ("join", "file") or await UserService(session).by_verified_phone(phone) is not None
    await send_code(session, tenant, phone, purpose, client, secret, deliver=deliver)


@dataclass
class Joined:
    user: User
    existing: bool  # the phone already had an account: it now holds a role here too, its password unchanged


async def join(session: AsyncSession, tenant: Tenant, *, phone: str, code: str, name: str, password: str,
               privacy_version: str, accept_privacy: bool, sms_consent: bool, compound: uuid.UUID | None,
               building: uuid.UUID | None, passwords: Passwords, secret: str) -> Joined:
    """Make the person who holds `phone` a resident of `tenant` (the session acts in it). Every field is checked
    before the code is spent, and every refusal names its field."""
    if tenant.kind != "community":
        raise InvalidInput("只能加入社区；请从所在社区的页面加入", field="tenant")
    problems = phone_problems(phone)
    try:
        name = validate_name(name, "name")
    except InvalidInput as exc:
        problems.append(exc)
    problems += password_problems(password, hints=(phone, name))
    if not accept_privacy:
        problems.append(InvalidInput("请阅读并同意隐私政策后再加入", field="accept_privacy"))
    try:
        compound, building = await resolve_place(session, compound, building)
    except InvalidInput as exc:
        problems.append(exc)
    if problems:
        raise InvalidInputs(problems)
    notice = privacy_notice(tenant)
    if privacy_version != notice.version:
        raise Conflict("隐私政策已更新，请阅读新版本后再同意", field="accept_privacy")
    await check_code(session, phone, "join", code, secret)
    users = UserService(session)
    user = await users.by_verified_phone(phone)
    existing = user is not None
    if user is None:
        user = User(username=new_username(), display_name=name, phone=phone,
                    phone_verified_at=clock.now(), password_hash=passwords.hash(password))
        session.add(user)
        await session.flush()
        if not sms_consent:  # no SMS unless they agreed: their defaults say the inbox alone
            session.add_all(NotificationPreference(user_id=user.id, kind=kind, channels=[], digest=False)
                            for kind, channels in DEFAULT_CHANNELS.items() if "sms" in channels)
    elif not user.active:
        raise Unauthenticated("该账号已停用，请联系社区工作人员")
    held = await session.scalar(select(RoleAssignment.id).where(RoleAssignment.user_id == user.id,
                                                                RoleAssignment.role == RESIDENT))
    if held is None:
        session.add(RoleAssignment(tenant_id=tenant.id, user_id=user.id, role=RESIDENT, granted_by=None))
        user.authz_version += 1
    session.add_all([Consent(tenant_id=tenant.id, user_id=user.id, kind="privacy", version=notice.version,
                             granted=True),
                     Consent(tenant_id=tenant.id, user_id=user.id, kind="sms", version=notice.version,
                             granted=sms_consent)])
    residence = await session.scalar(select(Residence).where(Residence.user_id == user.id))
    if residence is None:
        session.add(Residence(tenant_id=tenant.id, user_id=user.id, compound_id=compound, building_id=building))
    elif compound is not None:
        residence.compound_id, residence.building_id, residence.confirmed_at = compound, building, None
    await session.flush()
    await claim_filed_by_phone(session, tenant, user)
    return Joined(user, existing)


async def claim_filed_by_phone(session: AsyncSession, tenant: Tenant, user: User) -> None:
    """The concerns filed in `tenant` (the session acts in it) with no account, by the phone `user` has just
    proved, become theirs, one `concern.claimed` event each (naming nobody but the actor)."""
    if not user.phone:
        return
    # Locked: a claim made meanwhile (the same person signing in twice at once) is not claimed again.
    concerns = (await session.scalars(select(Concern).where(
        Concern.filed_by_id.is_(None), Concern.resident_id.is_(None), Concern.resident_phone == user.phone)
        .order_by(Concern.created_at).with_for_update())).all()
    ctx = TenantContext(tenant.id, tenant.path)
    for concern in concerns:
        concern.resident_id = user.id
        await session.flush()
        await append_event(session, ctx, subject_kind="concern", subject_id=concern.id, action="concern.claimed",
                           from_state=concern.status, to_state=concern.status, actor_id=user.id)


async def _claim_where_resident(session: AsyncSession, user: User) -> None:
    """`claim_filed_by_phone` in every community where `user` is a resident: where they may act as one, and
    where a concern filed by their phone is about their home. A community they have not joined keeps its own."""
    async with acting_for(session, user.id):  # their own roles, in every tenant (Row-Level Security)
        tenants = (await session.scalars(select(Tenant).join(RoleAssignment, RoleAssignment.tenant_id == Tenant.id)
                                         .where(RoleAssignment.user_id == user.id, RoleAssignment.role == RESIDENT,
                                                Tenant.archived.is_(False))
                                         .execution_options(**{ALL_TENANTS: True}))).all()
    for tenant in tenants:
        async with within(session, tenant):
            await claim_filed_by_phone(session, tenant, user)


async def sign_in_by_code(session: AsyncSession, phone: str, code: str, secret: str) -> User:
    """The account the phone signs in to, once its code came back. A phone with no account is refused as a
    wrong code is: no answer tells which numbers have accounts."""
    problems = phone_problems(phone)
    if problems:
        raise InvalidInputs(problems)
    user = await UserService(session).by_verified_phone(phone)
    await check_code(session, phone, "sign_in", code, secret)
    if user is None or not user.active:
        raise InvalidInput("验证码不正确或已过期，请重新获取", field="code")
    await _claim_where_resident(session, user)
    return user


async def reset_password(session: AsyncSession, phone: str, code: str, password: str, *,
                         passwords: Passwords, secret: str) -> User:
    """A new password for the account of `phone`, once its code came back; every session of theirs ends. The
    password is checked before the code is spent."""
    users = UserService(session)
    problems = phone_problems(phone)
    user = None if problems else await users.by_verified_phone(phone)
    problems += password_problems(password, hints=(phone, *hints_of(user)))
    if problems:
        raise InvalidInputs(problems)
    await check_code(session, phone, "reset", code, secret)
    if user is None or not user.active:
        raise InvalidInput("验证码不正确或已过期，请重新获取", field="code")
    await users.apply_password(user, password, passwords=passwords)
    return user
