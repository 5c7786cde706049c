"""Invitations by link: staff make a single-use, expiring link that gives a role in their tenant (one they may
grant), see the links still open and revoke them; whoever opens one first makes an account there (or, signed in,
takes it with their own) and holds the role. Only a hash of the token is kept."""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import Invitation, User
from core.accounts.services import (
    USERNAME_RE,
    MemberService,
    Passwords,
    UserService,
    password_problems,
    validate_role,
)
from core.authz.authorizer import Authorizer
from core.authz.rules import grant_action
from core.errors import Conflict, Gone, InvalidInput, NotFound, Problems
from core.inputs import nul_in
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope, grants_of
from core.tenancy.services import validate_name

audit_log = logging.getLogger("yishi.audit")
DEFAULT_DAYS = 7
MAX_DAYS = 30
TOKEN_BYTES = 32  # 256 bits: no one guesses a link, so opening one needs no throttle
NOTE_LENGTH = 100


def token_hash(token: str) -> str:
    """What is kept of a token: its SHA-256 (a token is random and long, so no salt or key is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_path(tenant: Tenant, token: str) -> str:
    return f"/t/{tenant.slug}/invite/{token}"


@dataclass(frozen=True)
class Pending:
    invitation: Invitation
    created_by: str  # the username of the staff who made it


class InvitationService:
    """The staff's side: making, listing and revoking the tenant's invitations."""

    def __init__(self, scope: TenantScope) -> None:
        self.scope = scope
        self.session = scope.session

    async def create(self, role: str, note: str | None = None, days: int = DEFAULT_DAYS) -> tuple[Invitation, str]:
        """A new link for `role` (never one above what the staff may grant), open for `days`; the token is
        answered once, here, and never kept."""
        problems = Problems()
        problems.take(validate_role, role)
        note = (note or "").strip() or None
        if note is not None and (refused := nul_in(note, "note")) is not None:
            problems.add(refused)
        elif note is not None and len(note) > NOTE_LENGTH:
            problems.add(InvalidInput("备注最多 {bound} 个字", field="note", bound=NOTE_LENGTH))
        if not 1 <= days <= MAX_DAYS:
            problems.add(InvalidInput("有效期须为 1–{bound} 天", field="days", bound=MAX_DAYS))
        problems.raise_any()
        self.scope.require(grant_action(role))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        invitation = Invitation(tenant_id=self.scope.tenant.id, token_hash=token_hash(token), role=role, note=note,
                                created_by=self.scope.user_id,
                                expires_at=clock.now() + datetime.timedelta(days=days))
        self.session.add(invitation)
        await self.session.flush()
        audit_log.info("invitation made: id=%s role=%s by=%s tenant=%s", invitation.id, role, self.scope.user_id,
                       self.scope.tenant.slug)
        return invitation, token

    async def pending(self, limit: int, offset: int) -> tuple[list[Pending], int]:
        """The tenant's links still open (neither used, revoked nor expired), the newest first."""
        where = (Invitation.used_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > clock.now())
        total = await self.session.scalar(select(func.count(Invitation.id)).where(*where))
        rows = (await self.session.execute(
            select(Invitation, User.username).join(User, User.id == Invitation.created_by).where(*where)
            .order_by(Invitation.created_at.desc(), Invitation.id).limit(limit).offset(offset))).all()
        return [Pending(invitation, username) for invitation, username in rows], int(total or 0)

    async def revoke(self, invitation_id: uuid.UUID) -> None:
        """The link stops working. Revoking a revoked or expired one changes nothing; a used one is history."""
        invitation = await self.session.scalar(select(Invitation).where(Invitation.id == invitation_id))
        if invitation is None:
            raise NotFound("没有这个邀请")
        self.scope.require(grant_action(invitation.role))
        if invitation.used_at is not None:
            raise Conflict("这个邀请已被使用，无法撤销；如需收回角色，请在成员列表中撤销")
        if invitation.revoked_at is None:
            invitation.revoked_at = clock.now()
            await self.session.flush()
            audit_log.info("invitation revoked: id=%s by=%s tenant=%s", invitation.id, self.scope.user_id,
                           self.scope.tenant.slug)


# --- the invitee's side: the session acts in the link's tenant, for no role yet ---------------------------------

async def open_invitation(session: AsyncSession, token: str) -> Invitation:
    """The invitation of `token` in the session's tenant, if it can still be taken: an unknown token is 404, a
    used, revoked or expired one 410, each with a message the person can act on."""
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise NotFound("邀请链接无效，请核对链接，或向社区工作人员索取新的链接")
    if invitation.used_at is not None:
        raise Gone("这个邀请链接已被使用过；每个链接只能用一次。如需加入，请向社区工作人员索取新的链接")
    if invitation.revoked_at is not None:
        raise Gone("这个邀请链接已被撤销，请向社区工作人员索取新的链接")
    if invitation.expires_at <= clock.now():
        raise Gone("这个邀请链接已过期，请向社区工作人员索取新的链接")
    return invitation


@dataclass(frozen=True)
class Accepted:
    user: User
    role: str
    created: bool  # a new account (False: the signed-in person's own)


async def accept(session: AsyncSession, tenant: Tenant, token: str, *, user: User | None, username: str = "",
                 name: str = "", password: str = "", passwords: Passwords, authorizer: Authorizer) -> Accepted:
    """Take the invitation of `token`: with `user`, the signed-in person's own account; otherwise a new account
    from `username`, `name` and `password` (every field checked before the link is spent). The role is granted
    only if whoever made the link may still grant it, so that a link outlives no one's authority."""
    invitation = await open_invitation(session, token)
    if user is None:
        problems = Problems()
        name = problems.take(validate_name, name, "name") or ""
        username = username.strip()
        if not USERNAME_RE.fullmatch(username):
            problems.add(InvalidInput("用户名须为 3–64 个字母、数字或 _ . -", field="username"))
        elif await UserService(session).by_username(username) is not None:
            problems.add(InvalidInput("用户名 {username} 已被使用", field="username", username=username))
        for problem in password_problems(password, hints=(username, name)):
            problems.add(problem)
        problems.raise_any()
    await _inviter_may_still_grant(session, authorizer, tenant, invitation)
    created = user is None
    if user is None:
        user = User(username=username, display_name=name, password_hash=passwords.hash(password))
        session.add(user)
        await session.flush()
    # Spent by one statement, so that of two people opening the same link at once only one gets the role.
    spent = await session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
                                 Invitation.revoked_at.is_(None))
        .values(used_at=clock.now(), used_by=user.id).execution_options(synchronize_session=False))
    if cast(CursorResult[Any], spent).rowcount != 1:
        raise Gone("这个邀请链接已被使用过；每个链接只能用一次。如需加入，请向社区工作人员索取新的链接")
    # The person chose to take it, so the grant may reach an account seen elsewhere (`anywhere`); held already,
    # it changes nothing.
    await MemberService(session, tenant).grant(user.username, invitation.role, invitation.created_by, anywhere=True)
    audit_log.info("invitation taken: id=%s user=%s new_account=%s tenant=%s", invitation.id, user.id, created,
                   tenant.slug)
    return Accepted(user, invitation.role, created)


async def _inviter_may_still_grant(session: AsyncSession, authorizer: Authorizer, tenant: Tenant,
                                   invitation: Invitation) -> None:
    row = (await session.execute(select(User.authz_version, User.platform_admin).where(
        User.id == invitation.created_by, User.active.is_(True)))).first()
    if row is None or not authorizer.permits(await grants_of(session, authorizer, invitation.created_by, *row),
                                             tenant.path, grant_action(invitation.role)):
        raise Gone("这个邀请链接已失效，请向社区工作人员索取新的链接")
