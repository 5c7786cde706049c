"""The tenant a unit of work acts in: the one way a request, a command or a background job acts in a tenant.

A session acts in one tenant at a time (`core.db` walls every query to it; on PostgreSQL, Row-Level Security
too). Everything that changes which tenant, or which user, a session acts for is here, and every temporary
change is a context manager that restores what was before on every exit path:

- `open_scope` enters a tenant for a signed-in user and answers their `TenantScope` (what they may do there);
  a request does it through `core.http.enter_tenant`, code outside a request through `tenant_session`;
- `TenantScope.subtree()` widens reads to the tenants below (roll-ups), `TenantScope.acting_in(child)` acts in
  a tenant below (taking over an escalated concern);
- `enter` makes a session act in a tenant for a reader nobody authorized yet (public pages, Open311);
- `within` is for operator commands walking several tenants in one transaction (manifests, transfer, audit);
- `acting_for` reads as another user for a moment (their own grants, under Row-Level Security);
- `system_session` is a job's unit of work in one tenant, for no user (delivering a notification).
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.accounts.models import RoleAssignment, User
from core.authz.authorizer import Authorizer, Grants
from core.db import (
    ALL_TENANTS,
    SET_LOCAL_KEY,
    TENANT_KEY,
    USER_KEY,
    TenantContext,
    TenantScopeError,
    apply_tenant_config,
)
from core.errors import Forbidden, NotFound, Unauthenticated
from core.events import PLUGINS_KEY
from core.tenancy.models import Tenant


async def _use_tenant(session: AsyncSession, ctx: TenantContext | None, user_id: uuid.UUID | None = None,
                      *, already_set: bool = False) -> None:
    """Make `ctx` the tenant (and `user_id` the user) of this session's queries and transactions.

    If a transaction is already open, PostgreSQL gets the setting now, unless the caller's own query
    `already_set` it; every later transaction gets it when it begins (`core.db`'s `after_begin`).
    """
    session.info[TENANT_KEY] = ctx
    session.info[USER_KEY] = user_id
    if already_set:
        return
    if session.in_transaction() and session.bind is not None and session.bind.dialect.name == "postgresql":
        conn = await session.connection()
        await conn.run_sync(lambda sync: apply_tenant_config(session.sync_session, sync))


@contextlib.asynccontextmanager
async def _switched(session: AsyncSession, ctx: TenantContext | None, user_id: uuid.UUID | None) -> AsyncIterator[None]:
    """Act in `ctx` for `user_id` for the block, then as before: on success, on a refusal, on any error."""
    before = session.info.get(TENANT_KEY), session.info.get(USER_KEY)
    if (ctx, user_id) == before:
        yield
        return
    await _use_tenant(session, ctx, user_id)
    try:
        yield
    except BaseException:
        # A failed statement may have aborted the transaction, which then cannot take the settings back; it is
        # rolled back, and the next transaction begins with them (the session's own record is restored first).
        with contextlib.suppress(SQLAlchemyError):
            await _use_tenant(session, *before)
        raise
    await _use_tenant(session, *before)


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The tenant a unit of work acts in, who acts, and what they may do there."""

    session: AsyncSession
    tenant: Tenant
    parent_slug: str | None
    user_id: uuid.UUID
    grants: Grants
    authorizer: Authorizer

    @property
    def ctx(self) -> TenantContext:
        return TenantContext(self.tenant.id, self.tenant.path)

    def can(self, action: str) -> bool:
        return self.authorizer.permits(self.grants, self.tenant.path, action)

    def require(self, action: str) -> None:
        if not self.can(action):
            raise Forbidden("您在该租户没有执行此操作的权限")

    async def user_may(self, user_id: uuid.UUID, action: str) -> bool:
        """Whether another user (say, an action item's prospective owner) may take `action` here; the scope
        goes on acting for its own user."""
        row = (await self.session.execute(select(User.authz_version, User.platform_admin).where(
            User.id == user_id, User.active.is_(True)))).first()
        if row is None:
            return False
        grants = await grants_of(self.session, self.authorizer, user_id, *row)
        return self.authorizer.permits(grants, self.tenant.path, action)

    @contextlib.asynccontextmanager
    async def subtree(self) -> AsyncIterator[None]:
        """Reads in the block reach this tenant and every tenant below it (roll-ups, escalations); writes
        still reach this tenant only (the wall refuses others, and so does Row-Level Security)."""
        async with _switched(self.session, dataclasses.replace(self.ctx, subtree=True), self.user_id):
            yield

    @contextlib.asynccontextmanager
    async def acting_in(self, child: Tenant) -> AsyncIterator[TenantScope]:
        """Act in `child`, a tenant below this one, for the block: the answer is the scope there, with the same
        grants (a role on this tenant applies below it)."""
        if child.id == self.tenant.id or not child.path.startswith(self.tenant.path):
            raise TenantScopeError(f"{child.slug} is not below {self.tenant.slug}")
        parent_slug = self.tenant.slug if child.parent_id == self.tenant.id else await self.session.scalar(
            select(Tenant.slug).where(Tenant.id == child.parent_id))
        async with _switched(self.session, TenantContext(child.id, child.path), self.user_id):
            yield dataclasses.replace(self, tenant=child, parent_slug=parent_slug)


_Parent = aliased(Tenant)
# Built once: the lookup every tenant-scoped request makes (tenant, parent's slug, the user's authz version);
# a user signed out since the token was issued (another session version) is not found, like a deactivated one.
_RESOLVE = (
    select(Tenant, _Parent.slug, User.authz_version, User.platform_admin)
    .outerjoin(_Parent, Tenant.parent_id == _Parent.id)
    .outerjoin(User, (User.id == bindparam("user_id")) & User.active.is_(True)
               & (User.session_version == bindparam("session_version")))
)
_BY_SLUG = _RESOLVE.where(Tenant.slug == bindparam("tenant"))
_BY_ID = _RESOLVE.where(Tenant.id == bindparam("tenant"))
# On PostgreSQL the same query also makes the tenant and the user the transaction's, for Row-Level Security (which
# then shows the user's own roles, should their grants need loading).
_SETTINGS = (func.set_config("app.tenant_id", cast(Tenant.id, String), True),
             func.set_config("app.tenant_path", Tenant.path, True),
             func.set_config("app.user_id", cast(bindparam("user_id"), String), True))
_BY_SLUG_AND_SET, _BY_ID_AND_SET = _BY_SLUG.add_columns(*_SETTINGS), _BY_ID.add_columns(*_SETTINGS)


async def open_scope(session: AsyncSession, tenant: str | uuid.UUID, user_id: uuid.UUID, session_version: int,
                     authorizer: Authorizer) -> TenantScope:
    """Enter `tenant` (a slug or an id) for the user, and answer what they may do there.

    One query finds the tenant, its parent's slug and the user's authorization version; on PostgreSQL the same
    query sets the transaction's tenant, so a cached decision costs no further round trip. A user gone,
    deactivated or signed out of `session_version` is refused.
    """
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    postgres = postgres and not session.info.get(SET_LOCAL_KEY)  # SET LOCAL is a statement of its own
    by_id = isinstance(tenant, uuid.UUID)
    statement = (_BY_ID_AND_SET if by_id else _BY_SLUG_AND_SET) if postgres else (_BY_ID if by_id else _BY_SLUG)
    row = (await session.execute(statement, {"tenant": tenant, "user_id": user_id,
                                             "session_version": session_version})).first()
    if row is None:
        raise NotFound("没有租户 {slug}", slug=str(tenant))
    found, parent_slug, version, platform_admin = row[:4]
    if version is None:
        raise Unauthenticated("账号不存在或已停用，请重新登录")
    await _use_tenant(session, TenantContext(found.id, found.path), user_id, already_set=postgres)
    grants = await grants_of(session, authorizer, user_id, version, platform_admin)
    return TenantScope(session, found, parent_slug, user_id, grants, authorizer)


async def grants_of(session: AsyncSession, authorizer: Authorizer, user_id: uuid.UUID, version: int,
                    platform_admin: bool) -> Grants:
    """The user's grants as of `version` (their `authz_version`, read in this transaction): the process's copy, or
    their roles read acting for them (PostgreSQL's Row-Level Security shows their own in every tenant)."""
    cached = authorizer.cached(user_id, version, platform_admin)
    if cached is not None:
        return cached
    async with acting_for(session, user_id):
        roles = (await session.execute(select(RoleAssignment.tenant_id, RoleAssignment.role).where(
            RoleAssignment.user_id == user_id).execution_options(**{ALL_TENANTS: True}))).all()
    return authorizer.remember(user_id, version, platform_admin, roles)


async def current_grants(session: AsyncSession, authorizer: Authorizer, user_id: uuid.UUID,
                         session_version: int) -> Grants | None:
    """The user's grants, current as of this transaction; None if the user is gone or deactivated, or has signed
    out of the session (`session_version`) the caller acts in."""
    row = (await session.execute(select(User.authz_version, User.platform_admin).where(
        User.id == user_id, User.active.is_(True), User.session_version == session_version))).first()
    if row is None:
        authorizer.forget(user_id)
        return None
    return await grants_of(session, authorizer, user_id, *row)


@contextlib.asynccontextmanager
async def tenant_session(app: Any, tenant: str | uuid.UUID, actor: uuid.UUID | str) -> AsyncIterator[TenantScope]:
    """A unit of work outside a request (a command, a background job, a periodic sweep) in `tenant` (slug or id),
    for `actor` (a user's id or username): its own session and transaction, walled exactly as a request is,
    committed when the block ends and rolled back if it raises. `app` is the Litestar app (or its state)."""
    state = getattr(app, "state", app)
    async with state.sessionmaker() as session:
        session.info[PLUGINS_KEY] = state.plugins
        try:
            who = User.id == actor if isinstance(actor, uuid.UUID) else User.username == actor
            user = (await session.execute(select(User.id, User.session_version).where(who))).first()
            if user is None:
                raise Unauthenticated("账号不存在或已停用，请重新登录")
            yield await open_scope(session, tenant, user.id, user.session_version, state.authorizer)
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


@contextlib.asynccontextmanager
async def system_session(app: Any, tenant: uuid.UUID) -> AsyncIterator[AsyncSession]:
    """A unit of work of the platform itself in `tenant` — a job delivering a notification, a periodic sweep —
    for no user: its own session and transaction, walled to the tenant as a request is (no subtree, no grants),
    committed when the block ends and rolled back if it raises."""
    state = getattr(app, "state", app)
    async with state.sessionmaker() as session:
        session.info[PLUGINS_KEY] = state.plugins
        try:
            found = await session.get(Tenant, tenant)
            if found is None:
                raise NotFound("没有租户 {slug}", slug=str(tenant))
            await _use_tenant(session, TenantContext(found.id, found.path), None)
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


async def enter(session: AsyncSession, tenant: Tenant, user_id: uuid.UUID | None = None) -> None:
    """From now on, the session acts in `tenant` for a reader no role authorizes yet: a public page, an Open311
    client, a portal page before it asks for a role (`user_id`: who signed in, if anyone)."""
    await _use_tenant(session, TenantContext(tenant.id, tenant.path), user_id)


@contextlib.asynccontextmanager
async def within(session: AsyncSession, tenant: Tenant | TenantContext, *, subtree: bool = False) -> AsyncIterator[None]:
    """An operator's unit of work acts in `tenant` for the block (with `subtree`, reading every tenant below
    too), and as before after it: manifests, transfer and audit walk several tenants in one transaction."""
    ctx = tenant if isinstance(tenant, TenantContext) else TenantContext(tenant.id, tenant.path)
    async with _switched(session, dataclasses.replace(ctx, subtree=subtree), session.info.get(USER_KEY)):
        yield


@contextlib.asynccontextmanager
async def acting_for(session: AsyncSession, user_id: uuid.UUID) -> AsyncIterator[None]:
    """Read as `user_id` for the block, in the same tenant: PostgreSQL's Row-Level Security then shows that
    user's own rows (their roles in every tenant) and nobody else's."""
    async with _switched(session, session.info.get(TENANT_KEY), user_id):
        yield
