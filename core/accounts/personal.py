"""A person's rights over what Yishi holds about them (PIPL arts. 44–47): a copy of all of it, and erasing it.
Erasing keeps the public record: their concerns stay, and the statistics with them, but nothing on them names
or reaches the person any more, and the account row that the concerns point to holds no personal data."""

from __future__ import annotations

import datetime
import secrets
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import Consent, Residence, RoleAssignment, User
from core.accounts.services import Passwords
from core.accounts.sign_ins import forget_sign_ins, recent_sign_ins
from core.concerns.models import Concern
from core.db import ALL_TENANTS
from core.errors import InvalidInput, InvalidInputs
from core.notifications.models import Notification, NotificationPreference
from core.tenancy.models import Tenant
from core.tenancy.scope import acting_for, within

ERASED_NAME = "已注销用户"


def _when(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def _their_tenants(session: AsyncSession, user_id: uuid.UUID) -> list[Tenant]:
    """The tenants where the person holds a role, and those above them (a concern taken over by the street is
    the street's row): every tenant that may hold something of theirs."""
    async with acting_for(session, user_id):
        paths = list((await session.scalars(
            select(Tenant.path).join(RoleAssignment, RoleAssignment.tenant_id == Tenant.id)
            .where(RoleAssignment.user_id == user_id).execution_options(**{ALL_TENANTS: True}))).all())
    if not paths:
        return []
    tenants = (await session.scalars(select(Tenant).order_by(Tenant.path))).all()
    return [t for t in tenants if any(path.startswith(t.path) for path in paths)]


async def everything_about(session: AsyncSession, user: User) -> dict[str, Any]:
    """What Yishi holds about `user`, in every tenant: the account and its recent sign-ins, roles, consents, where
    they live, the concerns they raised or that were raised for them, their notifications and choices."""
    tenants = await _their_tenants(session, user.id)
    out: dict[str, Any] = {
        "account": {"username": user.username, "display_name": user.display_name, "phone": user.phone,
                    "phone_verified_at": _when(user.phone_verified_at), "email": user.email,
                    "language": user.language, "created_at": _when(user.created_at)},
        "sign_ins": [{"at": _when(s.at), "method": s.method, "network": s.client, "user_agent": s.user_agent}
                     for s in await recent_sign_ins(session, user.id)],
        "tenants": [],
        "notification_preferences": [
            {"kind": p.kind, "channels": p.channels, "digest": p.digest}
            for p in (await session.scalars(select(NotificationPreference).where(
                NotificationPreference.user_id == user.id).order_by(NotificationPreference.kind))).all()],
    }
    for tenant in tenants:
        async with within(session, tenant), acting_for(session, user.id):
            roles = (await session.scalars(select(RoleAssignment.role).where(
                RoleAssignment.user_id == user.id, RoleAssignment.tenant_id == tenant.id))).all()
            consents = (await session.scalars(select(Consent).where(Consent.user_id == user.id)
                                              .order_by(Consent.created_at))).all()
            residence = await session.scalar(select(Residence).where(Residence.user_id == user.id))
            concerns = (await session.scalars(select(Concern).where(
                (Concern.resident_id == user.id) | (Concern.filed_by_id == user.id))
                .order_by(Concern.created_at))).all()
            notices = (await session.scalars(select(Notification).where(
                Notification.recipient_id == user.id, Notification.tenant_id == tenant.id,
                Notification.channel == "inbox").order_by(Notification.created_at))).all()
        if not (roles or consents or residence or concerns or notices):
            continue
        out["tenants"].append({
            "tenant": tenant.slug, "tenant_name": tenant.name, "roles": sorted(roles),
            "consents": [{"kind": c.kind, "version": c.version, "granted": c.granted, "at": _when(c.created_at)}
                         for c in consents],
            "residence": None if residence is None else {
                "compound": str(residence.compound_id) if residence.compound_id else None,
                "building": str(residence.building_id) if residence.building_id else None,
                "confirmed_at": _when(residence.confirmed_at)},
            "concerns": [{"reference": c.reference, "title": c.title, "description": c.description,
                          "status": c.status, "place": c.place, "resident_name": c.resident_name,
                          "resident_phone": c.resident_phone, "filed_at": _when(c.created_at),
                          "for_me": c.resident_id == user.id} for c in concerns],
            "notifications": [{"subject": n.subject, "body": n.body, "at": _when(n.created_at),
                               "read_at": _when(n.read_at)} for n in notices],
        })
    return out


def check_erase(passwords: Passwords, user: User, password: str, confirm: bool) -> None:
    """Erasing is for the person themselves, knowingly: their password, and the box that says they mean it."""
    problems = []
    if not passwords.verify(user.password_hash, password):
        problems.append(InvalidInput("密码不正确", field="password"))
    if not confirm:
        problems.append(InvalidInput("请确认要注销账号：注销后无法恢复", field="confirm"))
    if problems:
        raise InvalidInputs(problems)


async def erase(session: AsyncSession, user: User) -> None:
    """Erase the person: their concerns lose every link to them (their name and phone on them, the resident
    they were filed for), their inbox, choices, consents, home, roles and sign-ins go, and the account becomes a row
    that names nobody, cannot sign in, and every session of which has ended."""
    for tenant in await _their_tenants(session, user.id):
        async with within(session, tenant), acting_for(session, user.id):
            await session.execute(update(Concern).where(Concern.resident_id == user.id).values(
                resident_id=None, resident_name=None, resident_phone=None))
            await session.execute(update(Concern).where(Concern.filed_by_id == user.id, Concern.channel == "portal")
                                  .values(resident_name=None, resident_phone=None))
            await session.execute(delete(Notification).where(Notification.recipient_id == user.id,
                                                             Notification.tenant_id == tenant.id))
            await session.execute(delete(Consent).where(Consent.user_id == user.id))
            await session.execute(delete(Residence).where(Residence.user_id == user.id))
            await session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == user.id,
                                                               RoleAssignment.tenant_id == tenant.id))
    await session.execute(delete(NotificationPreference).where(NotificationPreference.user_id == user.id))
    await forget_sign_ins(session, user.id)
    user.username = f"erased-{secrets.token_hex(8)}"
    user.display_name = ERASED_NAME
    user.phone = user.email = user.phone_verified_at = None
    user.password_hash = "!"  # noqa: S105 (no password hashes to this: nobody signs in as an erased person)
    user.active = False
    user.session_version += 1
    user.authz_version += 1
    user.updated_at = clock.now()
    await session.flush()
