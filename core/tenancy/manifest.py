"""Declarative tenant manifests: a YAML tree of tenants (with compounds, buildings and users) applied idempotently."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.services import MemberService, Passwords, UserService
from core.errors import InvalidInput
from core.inputs import Input, cap
from core.tenancy.models import Building, Compound
from core.tenancy.scope import within
from core.tenancy.services import TenantService

FILE_ITEMS = 100_000


class CompoundSpec(Input):
    name: Annotated[str, cap(100)]
    has_property_company: bool = True
    buildings: list[Annotated[str, cap(50)]] = msgspec.field(default_factory=list)


class TenantSpec(Input):
    slug: Annotated[str, cap(63)]
    name: Annotated[str, cap(100)]
    kind: Annotated[str, cap(16)]
    plugins: list[Annotated[str, cap(63)]] = msgspec.field(default_factory=list)
    portal: dict[str, Any] = msgspec.field(default_factory=dict)
    compounds: list[CompoundSpec] = msgspec.field(default_factory=list)
    children: Annotated[list[TenantSpec], msgspec.Meta(max_length=FILE_ITEMS)] = msgspec.field(default_factory=list)


class GrantSpec(Input):
    role: Annotated[str, cap(32)]
    tenant: Annotated[str, cap(63)] | None = None


class UserSpec(Input):
    username: Annotated[str, cap(64)]
    password: Annotated[str, cap(128)]
    name: Annotated[str, cap(100)] | None = None
    phone: Annotated[str, cap(20)] | None = None
    email: Annotated[str, cap(254)] | None = None  # where e-mail notifications go
    roles: list[GrantSpec] = msgspec.field(default_factory=list)


class Manifest(Input):
    """The whole file. `parent` places the top tenants under an existing one (default: they are roots)."""

    # An operator's file may onboard a whole city: its lists are bounded far above a request's.
    tenants: Annotated[list[TenantSpec], msgspec.Meta(max_length=FILE_ITEMS)] = msgspec.field(default_factory=list)
    parent: Annotated[str, cap(63)] | None = None
    users: Annotated[list[UserSpec], msgspec.Meta(max_length=FILE_ITEMS)] = msgspec.field(default_factory=list)


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"新建 {len(self.created)}，更新 {len(self.updated)}，未变 {len(self.unchanged)}"


def load_manifest(path: Path) -> Manifest:
    try:
        return msgspec.yaml.decode(path.read_bytes(), type=Manifest)
    except msgspec.ValidationError as exc:
        raise InvalidInput("{path}: {error}", path=str(path), error=str(exc)) from None


def _walk(specs: list[TenantSpec], parent: str | None) -> Iterator[tuple[TenantSpec, str | None]]:
    for spec in specs:
        yield spec, parent
        yield from _walk(spec.children, spec.slug)


async def apply_manifest(session: AsyncSession, manifest: Manifest, installed_plugins: tuple[str, ...] = (), *,
                         passwords: Passwords) -> ApplyReport:
    """Create what is missing and bring what exists in line; never deletes, never moves a tenant. New users'
    passwords are hashed with `passwords`."""
    report = ApplyReport()
    tenants = TenantService(session, installed_plugins)
    for spec, parent_slug in _walk(manifest.tenants, manifest.parent):
        parent = (await tenants.get(parent_slug))[0] if parent_slug else None
        found = await tenants.find(spec.slug)
        if found is None:
            tenant = await tenants.create(spec.slug, spec.name, spec.kind, parent, spec.plugins, spec.portal)
            report.created.append(f"tenant {spec.slug}")
        else:
            tenant, current_parent = found
            if current_parent != parent_slug or tenant.kind != spec.kind:
                if current_parent is None:
                    raise InvalidInput("租户 {slug} 已存在于 顶级（{kind}），清单不能移动或改变其类型",
                                       slug=spec.slug, kind=tenant.kind)
                raise InvalidInput("租户 {slug} 已存在于 {parent}（{kind}），清单不能移动或改变其类型",
                                   slug=spec.slug, parent=current_parent, kind=tenant.kind)
            changed = (tenant.name, sorted(tenant.plugins), tenant.portal) != (spec.name, sorted(spec.plugins), spec.portal)
            await tenants.update(tenant, name=spec.name, plugins=spec.plugins, portal=spec.portal)
            (report.updated if changed else report.unchanged).append(f"tenant {spec.slug}")
        if spec.compounds and spec.kind != "community":
            raise InvalidInput("租户 {slug}：小区只能设在社区之下", slug=spec.slug)
        async with within(session, tenant):
            for compound in spec.compounds:
                await _apply_compound(session, compound, report, spec.slug)
    await _apply_users(session, manifest.users, tenants, report, passwords)
    return report


async def _apply_compound(session: AsyncSession, spec: CompoundSpec, report: ApplyReport, slug: str) -> None:
    compound = await session.scalar(select(Compound).where(Compound.name == spec.name))
    if compound is None:
        compound = Compound(name=spec.name, has_property_company=spec.has_property_company)
        session.add(compound)
        await session.flush()
        report.created.append(f"compound {slug}/{spec.name}")
    elif compound.has_property_company != spec.has_property_company:
        compound.has_property_company = spec.has_property_company
        report.updated.append(f"compound {slug}/{spec.name}")
    existing = set(
        (await session.scalars(select(Building.name).where(Building.compound_id == compound.id))).all()
    )
    for name in spec.buildings:
        if name not in existing:
            session.add(Building(compound_id=compound.id, name=name))
            report.created.append(f"building {slug}/{spec.name}/{name}")
    await session.flush()


async def _apply_users(session: AsyncSession, specs: list[UserSpec], tenants: TenantService,
                       report: ApplyReport, passwords: Passwords) -> None:
    users = UserService(session)
    for spec in specs:
        user = await users.by_username(spec.username)
        if user is None:
            # Existing users keep their password: re-applying a manifest never resets what a person changed.
            user = await users.create(spec.username, spec.password, spec.name, spec.phone, passwords=passwords,
                                      email=spec.email)
            report.created.append(f"user {spec.username}")
        for grant in spec.roles:
            await grant_role(session, tenants, spec.username, grant.role, grant.tenant, report)


async def grant_role(session: AsyncSession, tenants: TenantService, username: str, role: str,
                     tenant_slug: str | None, report: ApplyReport | None = None) -> bool:
    """Operator grant (CLI, manifests): `platform_admin` takes no tenant, every other role needs one."""
    user = await UserService(session).by_username(username)
    if user is None:
        raise InvalidInput("没有用户 {username}", field="user", username=username)
    if role == "platform_admin":
        if tenant_slug:
            raise InvalidInput("platform_admin 对所有租户有效，不要指定租户", field="tenant")
        created = not user.platform_admin
        if created:
            user.platform_admin = True
            user.authz_version += 1
            await session.flush()
    else:
        if not tenant_slug:
            raise InvalidInput("角色 {role} 须指定租户", field="tenant", role=role)
        tenant, _ = await tenants.get(tenant_slug)
        async with within(session, tenant):
            _, created = await MemberService(session, tenant).grant(username, role, None, anywhere=True)
    if report is not None:
        (report.created if created else report.unchanged).append(f"grant {username} {role} {tenant_slug or '*'}")
    return created


