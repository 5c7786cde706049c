"""What a person changes of their own account: their name, the language of their messages, and their phone number
(by a code sent to the new one, with their password). Their sessions are `core.accounts.sign_ins`'."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import RoleAssignment, User
from core.accounts.services import Passwords, UserService, phone_problems
from core.accounts.verification import check_code, send_code
from core.db import ALL_TENANTS
from core.errors import InvalidInput, InvalidInputs
from core.notifications.messages import LANGUAGES
from core.tenancy.models import Tenant
from core.tenancy.scope import acting_for
from core.tenancy.services import validate_name

# --- name and language ------------------------------------------------------------------------------------------

async def rename(session: AsyncSession, user: User, name: str) -> None:
    user.display_name = validate_name(name, "display_name")
    await session.flush()


def validate_language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput("语言须为 {choices} 之一", field="language", choices=", ".join(LANGUAGES))
    return language


async def choose_language(session: AsyncSession, user: User, language: str) -> None:
    """The language of the person's messages (notifications, and the portal where they have not picked one)."""
    user.language = validate_language(language)
    await session.flush()


# --- a new phone number -----------------------------------------------------------------------------------------

def _new_phone(user: User, phone: str) -> str:
    phone = phone.strip()
    if problems := phone_problems(phone):
        raise InvalidInputs(problems)
    if phone == user.phone and user.phone_verified_at is not None:
        raise InvalidInput("这已经是您的手机号", field="phone")
    return phone


async def ask_for_phone_code(session: AsyncSession, tenant: Tenant, user: User, phone: str, *, client: str,
                             secret: str) -> None:
    """Send a code to the number the person wants as theirs, in `tenant`'s name (the session acts in it). It is
    sent whoever holds the number: only its holder learns anything, and only once they type the code back."""
    await send_code(session, tenant, _new_phone(user, phone), "phone", client, secret)


async def change_phone(session: AsyncSession, user: User, *, phone: str, code: str, password: str,
                       passwords: Passwords, secret: str) -> None:
    """Make `phone` the person's verified number, once its code came back and their password is right (a stolen
    session alone cannot move the account to another phone). The password is checked before the code is spent.
    A number another account has verified is refused as "unusable", said only to whoever holds it. Every
    session of theirs ends: the caller issues its own anew."""
    phone = _new_phone(user, phone)
    if not passwords.verify(user.password_hash, password):
        raise InvalidInput("密码不正确", field="password")
    await check_code(session, phone, "phone", code, secret)
    holder = await UserService(session).by_verified_phone(phone)
    if holder is not None and holder.id != user.id:  # said alike for every reason: nobody learns whose it is
        raise InvalidInput("该手机号无法使用", field="phone")
    user.phone, user.phone_verified_at = phone, clock.now()
    user.session_version += 1
    try:
        async with session.begin_nested():  # another account verified it a moment ago: the unique index says so
            await session.flush()
    except IntegrityError:
        raise InvalidInput("该手机号无法使用", field="phone") from None


async def home_tenant(session: AsyncSession, user: User, slug: str | None) -> Tenant | None:
    """The tenant in whose name the person's code is sent: `slug` if they hold a role there or above it,
    otherwise the topmost where they hold one (None if they hold none)."""
    async with acting_for(session, user.id):
        paths = list((await session.scalars(
            select(Tenant.path).join(RoleAssignment, RoleAssignment.tenant_id == Tenant.id)
            .where(RoleAssignment.user_id == user.id).order_by(Tenant.path)
            .execution_options(**{ALL_TENANTS: True}))).all())
    if slug:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.archived.is_(False)))
        if tenant is None or not any(tenant.path.startswith(path) for path in paths):
            raise InvalidInput("您不在这个租户", field="tenant")
        return tenant
    if not paths:
        return None
    return await session.scalar(select(Tenant).where(Tenant.path == paths[0]))
