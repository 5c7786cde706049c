"""Rules of accounts: creating users, signing in (with throttling), granting roles in a tenant, and deactivating
an account from the tenant that answers for it."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST
from sqlalchemy import CursorResult, String, delete, distinct, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from zxcvbn import zxcvbn

from core import clock
from core.accounts import phone_reads
from core.accounts.models import RoleAssignment, User
from core.accounts.schemas import MemberOut, MeOut, TenantRoles
from core.authz.rules import ROLES, TENANT_ROLES, grant_action
from core.db import ALL_TENANTS
from core.errors import Conflict, Forbidden, InvalidInput, InvalidInputs, NotFound, Unauthenticated
from core.i18n import Label
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope, acting_for
from core.tenancy.services import validate_name
from core.throttle import Throttle

audit_log = logging.getLogger("yishi.audit")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the shape of an address; the mail server is the judge
MIN_PASSWORD = 8  # an operator's account (CLI, manifests); a password a person chooses follows `password_problems`
MAX_CHOSEN_PASSWORD = 128  # a passphrase fits; a megabyte pasted by mistake (or malice) does not
MIN_CHOSEN_PASSWORD = 10
MIN_SCORE = 3  # zxcvbn's 0–4: 3 is "safely unguessable" (about 10^8 guesses), refusing common and patterned ones


class AccountDeactivated(Unauthenticated):
    """The password was right, but the account is deactivated: said only to one who knows the password."""


class Passwords:
    """Hashing and checking passwords with argon2id, under the profile the settings name (`password_hash`): the
    library's recommended parameters, or the cheapest, which the test suite asks for to stay fast. Built with
    the app (`app.state.passwords`) or a `yishi` command, never at import."""

    def __init__(self, profile: str = "default") -> None:
        cheapest = profile == "cheapest"  # noqa: S105 (a profile name)
        self._hasher = PasswordHasher.from_parameters(CHEAPEST) if cheapest else PasswordHasher()
        # Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
        self._dummy_hash = self.hash("yishi-no-such-user")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_nobody(self, password: str) -> None:
        """Take as long as checking a wrong password does, for a username that has no account."""
        self.verify(self._dummy_hash, password)


def password_problems(password: str, *, field: str = "password", hints: tuple[str | None, ...] = ()) -> list[InvalidInput]:
    """Why a password a person chose will not do (nothing if it will): at least ten characters, and not one of
    the common passwords or patterns (keyboard runs, repeats, dates, the person's own phone or name) that
    zxcvbn's lists and estimator know."""
    if len(password) < MIN_CHOSEN_PASSWORD:
        return [InvalidInput("密码至少 {length} 位", field=field, length=MIN_CHOSEN_PASSWORD)]
    if len(password) > MAX_CHOSEN_PASSWORD:
        return [InvalidInput("密码最多 {length} 位", field=field, length=MAX_CHOSEN_PASSWORD)]
    # zxcvbn refuses to rate more than its first 72 characters (it raises): a password that long is rated by them.
    if zxcvbn(password[:72], user_inputs=[h[:72] for h in hints if h])["score"] < MIN_SCORE:
        return [InvalidInput("密码太常见或太容易猜到（如常用密码、键盘顺序、手机号、生日），请换一个更长、更少见的组合",
                             field=field)]
    return []


def phone_problems(phone: str, field: str = "phone") -> list[InvalidInput]:
    return [] if PHONE_RE.fullmatch(phone) else [InvalidInput("手机号须为 11 位中国大陆手机号", field=field)]


def hints_of(user: User | None) -> tuple[str | None, ...]:
    """What a person's password must not be made of: their own name, username and phone."""
    return () if user is None else (user.username, user.phone, user.display_name)


def new_username() -> str:
    """The name of an account whose person never chose one (a resident who joined by phone, a worker staff
    added): they sign in by phone, and the name only has to be unique."""
    return f"u{secrets.token_hex(6)}"


async def display_names(session: AsyncSession, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Each account's name as pages show it: its display name, or its username when it has none; one query."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(wanted)))
    return {user_id: name or username for user_id, name, username in rows.all()}


def mask_phone(phone: str | None) -> str | None:
    """138****1234: enough to recognise a number, not enough to call it."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


class UserService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_username(self, username: str) -> User | None:
        if "\x00" in username:  # no account's name holds a NUL (and PostgreSQL cannot compare text holding one)
            return None
        return await self.session.scalar(select(User).where(User.username == username))

    async def by_verified_phone(self, phone: str) -> User | None:
        """The account a phone number signs in to: the one that proved it by a code."""
        return await self.session.scalar(select(User).where(User.phone == phone, User.phone_verified_at.is_not(None)))

    async def choose_password(self, user: User, password: str, *, passwords: Passwords, field: str = "password",
                              old: str | None = None) -> None:
        """A password the person chose, under the policy (with `old`, only if it is their current one; both are
        checked at once). Every session of theirs ends: the caller issues its own anew."""
        problems = []
        if old is not None and not passwords.verify(user.password_hash, old):
            problems.append(InvalidInput("原密码不正确", field="old_password"))
        problems += password_problems(password, field=field, hints=hints_of(user))
        if problems:
            raise InvalidInputs(problems)
        await self.apply_password(user, password, passwords=passwords)

    async def apply_password(self, user: User, password: str, *, passwords: Passwords) -> None:
        """Set a password already checked against the policy (`password_problems`); every session ends."""
        user.password_hash = passwords.hash(password)
        user.must_change_password = False
        user.session_version += 1
        await self.session.flush()

    async def create(self, username: str, password: str, display_name: str | None = None,
                     phone: str | None = None, *, passwords: Passwords, email: str | None = None) -> User:
        if not USERNAME_RE.fullmatch(username):
            raise InvalidInput("用户名须为 3–64 个字母、数字或 _ . -", field="username")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput("密码至少 {length} 位", field="password", length=MIN_PASSWORD)
        if phone is not None and (problems := phone_problems(phone)):
            raise problems[0]
        if email is not None and (len(email) > 254 or not EMAIL_RE.fullmatch(email)):
            raise InvalidInput("电子邮箱格式不正确，如 name@example.org", field="email")
        if await self.by_username(username):
            raise Conflict("用户名 {username} 已被使用", field="username", username=username)
        user = User(
            username=username,
            display_name=validate_name(display_name or username, "display_name"),
            phone=phone,
            email=email,
            password_hash=passwords.hash(password),
        )
        self.session.add(user)
        await self.session.flush()
        return user

    async def sign_out(self, user_id: uuid.UUID, session_version: int) -> bool:
        """End the user's sessions of `session_version`: every token and cookie issued under it stops working
        (on every device: one version per user keeps the check inside the lookup each request makes anyway).
        False if that session had already ended."""
        result = await self.session.execute(
            update(User).where(User.id == user_id, User.session_version == session_version)
            .values(session_version=User.session_version + 1)
        )
        return cast(CursorResult[Any], result).rowcount == 1

    async def set_password(self, user: User, password: str, *, passwords: Passwords) -> None:
        if len(password) < MIN_PASSWORD:
            raise InvalidInput("密码至少 {length} 位", field="password", length=MIN_PASSWORD)
        user.password_hash = passwords.hash(password)
        await self.session.flush()

    async def me(self, user: User, roles_by_tenant: dict[str, frozenset[str]]) -> MeOut:
        """The user and their roles per tenant (from the authorizer's grants: what is really in force)."""
        ids = [uuid.UUID(hex_id) for hex_id in roles_by_tenant]
        rows = (await self.session.execute(
            select(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).where(Tenant.id.in_(ids)).order_by(Tenant.path)
        )).all() if ids else []
        return me_out(user, roles_by_tenant, rows)

    async def me_at_once(self, where: Any, grants: Any) -> tuple[User, MeOut | None] | None:
        """`me` in one query, for the user `where` finds, with the tenants of the grants this process last knew
        for them (`grants`): None when there is no such user; the MeOut is None too when those grants are not
        the user's current ones (their `authz_version` moved on), and the caller reads them afresh."""
        ids = [uuid.UUID(hex_id) for hex_id in grants.by_tenant]
        rows = (await self.session.execute(
            select(User, Tenant.id, Tenant.slug, Tenant.name, Tenant.kind)
            .outerjoin(Tenant, Tenant.id.in_(ids) if ids else false()).where(where).order_by(Tenant.path))).all()
        if not rows:
            return None
        user = rows[0][0]
        if (user.authz_version, user.platform_admin) != (grants.version, grants.platform_admin):
            return user, None
        return user, me_out(user, grants.by_tenant, [row[1:] for row in rows if row[1] is not None])


def me_out(user: User, roles_by_tenant: dict[str, frozenset[str]], tenants: Sequence[Any]) -> MeOut:
    """The user and their roles in each of `tenants` ((id, slug, name, kind), in path order)."""
    return MeOut(
        id=user.id, username=user.username, display_name=user.display_name, phone=user.phone,
        platform_admin=user.platform_admin, language=user.language,
        tenants=[TenantRoles(tenant=slug, tenant_name=name, kind=kind, roles=sorted(roles_by_tenant[tid.hex]))
                 for tid, slug, name, kind in tenants],
    )


USERNAME_LENGTH: int = cast(String, User.__table__.c.username.type).length or 0

# How many times the allowance for one account from one client the wider counts allow (see LoginService).
WIDER_ALLOWANCE = 10


class LoginService:
    """Password sign-in, throttled (`Throttle`) on three counts, so that no one can lock another person out:

    - "user:<name> ip:<address>", the account from one client: `max_failures` free. A stranger guessing
      from elsewhere slows only themselves; the owner at their own address signs in as usual.
    - "user:<name>", the account from anywhere: ten times as many, against guesses spread over many addresses.
    - "ip:<address>", one client, any account: ten times as many, against one address trying many names, while
      an office behind one address still has room for its people's typos.

    A success clears its own (account, client) count only: the wider counts are what a stranger would reset.
    """

    def __init__(self, session: AsyncSession, passwords: Passwords, max_failures: int, window_seconds: int) -> None:
        self.session = session
        self.passwords = passwords
        self.max_failures = max_failures
        self.throttle = Throttle(session, window_seconds)

    async def authenticate(self, username: str, password: str, client: str) -> User:
        # No account's name is longer than its column or holds a NUL, so a name that does is counted by what fits:
        # the throttle's keys must fit theirs, whatever a stranger types (the API's schema refuses it sooner).
        name = username.lower().replace("\x00", "")[:USERNAME_LENGTH]
        allowances = {f"user:{name} ip:{client}": self.max_failures,
                      f"user:{name}": self.max_failures * WIDER_ALLOWANCE,
                      f"ip:{client}": self.max_failures * WIDER_ALLOWANCE}
        now = clock.now()
        await self.throttle.check(list(allowances), now)
        # A name with a NUL is no account's (and PostgreSQL cannot compare text holding one).
        users = UserService(self.session)
        user = None if "\x00" in username else await users.by_username(username)
        if user is None and PHONE_RE.fullmatch(username):  # a verified phone number signs in as its account's name
            user = await users.by_verified_phone(username)
        right = self.passwords.verify(user.password_hash, password) if user is not None else False
        if user is not None and right and user.active:
            await self.throttle.clear(next(iter(allowances)))
            return user
        if user is None:
            self.passwords.verify_nobody(password)
        await self.throttle.fail(allowances, now)
        # The failure must outlive the request, which ends in an error and is rolled back.
        await self.session.commit()
        if right:  # only one who knows the password hears that the account is deactivated
            raise AccountDeactivated("该账号已停用，请联系社区工作人员")
        raise Unauthenticated("用户名或密码不正确")


async def seen_from(session: AsyncSession, tenant: Tenant, user_id: uuid.UUID, *, above: bool,
                    public_role: str | None = None) -> bool:
    """Whether staff of `tenant` may see this user: one who holds a role in this tenant or below it (with
    `above`, in a tenant above it too: a district's department owns a community's action item), or no role at
    all yet (a new account), or — `public_role` — who holds a role the public knows anyway (a deputy's name is
    published; one receives residents at stations across the district). Anyone else is answered as a name that
    does not exist, so that no staff form tells who has an account elsewhere on the platform. Acting for the
    user lets PostgreSQL's Row-Level Security show every role they hold."""
    async with acting_for(session, user_id):
        held = (await session.execute(
            select(Tenant.path, RoleAssignment.role).join(RoleAssignment, RoleAssignment.tenant_id == Tenant.id)
            .where(RoleAssignment.user_id == user_id).execution_options(**{ALL_TENANTS: True}))).all()
    return not held or any(path.startswith(tenant.path) or (above and tenant.path.startswith(path))
                           or role == public_role for path, role in held)


async def users_seen_from(session: AsyncSession, tenant: Tenant, usernames: list[str], field: str, *,
                          public_role: str | None = None) -> dict[str, User]:
    """The named users, each active and seen from `tenant` (`seen_from`, above included); refuses, naming them
    all, the names that are unknown, inactive or belong elsewhere — alike."""
    found = {user.username: user for user in (await session.scalars(
        select(User).where(User.username.in_(usernames), User.active.is_(True)))).all()}
    hidden = [name for name in usernames if name not in found or not await seen_from(
        session, tenant, found[name].id, above=True, public_role=public_role)]
    if hidden:
        raise InvalidInput("找不到这些用户，或他们不在本辖区：{usernames}", field=field, usernames=list(dict.fromkeys(hidden)))
    return found


class MemberService:
    """Role assignments of the current tenant. Every change moves the user's `authz_version`."""

    def __init__(self, session: AsyncSession, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant

    async def grant(self, username: str, role: str, granted_by: uuid.UUID | None, *,
                    anywhere: bool = False) -> tuple[RoleAssignment, bool]:
        """Grant `role`; returns the assignment and whether it is new (granting twice changes nothing).

        Staff grant only to users they may see (`_visible`): an unknown name and a user who belongs elsewhere
        get the same refusal, so that granting never tells who has an account on the platform. `anywhere` is
        for the operator's manifest, which may attach anyone."""
        validate_role(role)
        user = await UserService(self.session).by_username(username)
        if user is None or not user.active or not (anywhere or await self._visible(user.id)):
            raise InvalidInput("找不到该用户，或无法授予", field="user")
        existing = await self.session.scalar(
            select(RoleAssignment).where(RoleAssignment.user_id == user.id, RoleAssignment.role == role)
        )
        if existing is not None:
            return existing, False
        assignment = RoleAssignment(tenant_id=self.tenant.id, user_id=user.id, role=role, granted_by=granted_by)
        self.session.add(assignment)
        await self._bump(user.id)
        return assignment, True

    async def _visible(self, user_id: uuid.UUID) -> bool:
        return await seen_from(self.session, self.tenant, user_id, above=False)

    async def revoke(self, username: str, role: str) -> None:
        user = await UserService(self.session).by_username(username)
        result = None
        if user is not None:
            result = await self.session.execute(
                delete(RoleAssignment).where(RoleAssignment.user_id == user.id, RoleAssignment.role == role)
            )
        if user is None or result is None or cast(CursorResult[Any], result).rowcount == 0:
            raise NotFound("{username} 在本租户没有角色 {role}", username=username, role=role)
        await self._bump(user.id)

    async def page(self, viewer_id: uuid.UUID, show_phone: bool, limit: int,
                   offset: int) -> tuple[list[MemberOut], int]:
        """The tenant's members, a page of them; their phones masked unless `show_phone` (then the read is logged)."""
        member_ids = select(RoleAssignment.user_id)
        total = await self.session.scalar(select(func.count(distinct(RoleAssignment.user_id))))
        page = (
            await self.session.execute(
                select(User).where(User.id.in_(member_ids)).order_by(User.username)
                .limit(limit).offset(offset)
            )
        ).scalars().all()
        roles: dict[uuid.UUID, list[str]] = {}
        rows = await self.session.execute(
            select(RoleAssignment.user_id, RoleAssignment.role)
            .where(RoleAssignment.user_id.in_([u.id for u in page]))
            .order_by(RoleAssignment.role)
        )
        for user_id, role in rows:
            roles.setdefault(user_id, []).append(role)
        if show_phone:
            await phone_reads.record(self.session, self.tenant.id, viewer_id, "user", [u.id for u in page if u.phone])
        return [
            MemberOut(
                user=u.username, display_name=u.display_name,
                phone=u.phone if show_phone else mask_phone(u.phone), roles=roles.get(u.id, []), active=u.active,
            )
            for u in page
        ], int(total or 0)

    async def set_active(self, username: str, active: bool, scope: TenantScope) -> User:
        """Deactivate (or reactivate) an account from the tenant that answers for it: every role the person holds
        is here or below (`scope`'s tenant), none above what `scope` may grant, and it is not the actor's own nor a
        platform administrator's. Deactivating ends every session of theirs at once; until they are reactivated no
        password, code or invitation signs them in. Their roles stay, for reactivation to give back.

        A name with no role here is refused as an unknown one is; one who also answers to another tenant is
        refused without saying which."""
        user = await UserService(self.session).by_username(username)
        held = await self._roles_everywhere(user.id) if user is not None else []
        if user is None or not any(path.startswith(self.tenant.path) for path, _role in held):
            raise NotFound("找不到用户 {username}，或他在本辖区没有角色", field="user", username=username)
        if user.id == scope.user_id:
            raise InvalidInput("不能停用或恢复自己的账号", field="user")
        if user.platform_admin or not all(path.startswith(self.tenant.path) for path, _role in held):
            raise Forbidden("{username} 在本辖区以外也有职责，不能在这里停用或恢复；请联系上级管理员", field="user",
                            username=username)
        above = sorted({role for _path, role in held if not scope.can(grant_action(role))})
        if above:
            raise Forbidden("您无权停用或恢复担任{roles}的账号", field="user",
                            roles=[Label(ROLES.get(role, role)) for role in above])
        if user.active != active:
            user.active = active
            user.authz_version += 1
            if not active:
                user.session_version += 1  # every token and cookie of theirs stops working
            await self.session.flush()
            audit_log.info("account %s: user=%s by=%s tenant=%s", "reactivated" if active else "deactivated",
                           user.id, scope.user_id, self.tenant.slug)
        return user

    async def _roles_everywhere(self, user_id: uuid.UUID) -> list[tuple[str, str]]:
        """Every (tenant path, role) the user holds, in every tenant: acting for them, Row-Level Security shows
        them all."""
        async with acting_for(self.session, user_id):
            return [(path, role) for path, role in (await self.session.execute(
                select(Tenant.path, RoleAssignment.role).join(RoleAssignment, RoleAssignment.tenant_id == Tenant.id)
                .where(RoleAssignment.user_id == user_id).execution_options(**{ALL_TENANTS: True}))).all()]

    async def _bump(self, user_id: uuid.UUID) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(authz_version=User.authz_version + 1)
        )
        await self.session.flush()


def validate_role(role: str) -> None:
    if role == "platform_admin":
        raise InvalidInput("未知角色 {role}；可用：{roles}。平台管理员不属于某个租户，请用 yishi users grant USERNAME platform_admin",
                           field="role", role=role, roles=", ".join(TENANT_ROLES))
    if role not in TENANT_ROLES:
        raise InvalidInput("未知角色 {role}；可用：{roles}", field="role", role=role, roles=", ".join(TENANT_ROLES))

