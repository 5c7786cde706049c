"""Rules of the tenant tree: who sits under whom, onboarding, updates, archiving, compounds and buildings."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from uuid_utils.compat import uuid7

from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import Label
from core.inputs import not_one_of, nul_in
from core.tenancy.models import (
    ALLOWED_PARENT_KINDS,
    KIND_NAMES,
    TENANT_KINDS,
    Building,
    Compound,
    Tenant,
    tenant_path,
)
from core.tenancy.schemas import BuildingOut, CompoundOut, TenantOut

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$")
PORTAL_KEYS = {"contact_phone", "contact_address", "office_hours", "intro", "theme_color", "reference_prefix",
               "privacy_notice", "phone_retention_months", "verify_residency", "rates_min_concerns"}
LONG_PORTAL_TEXT = {"privacy_notice": 5000}  # the others are short texts of at most 500 characters, but:
PORTAL_SWITCHES = {"verify_residency"}  # true or false
REFERENCE_PREFIX_RE = re.compile(r"^[A-Z]{2,6}$")


def validate_slug(slug: str) -> None:
    if not SLUG_RE.fullmatch(slug):
        raise InvalidInput(
            "网址代码须为 2–63 个小写字母、数字或连字符，且不以连字符开头或结尾（用作门户域名）", field="slug"
        )


def validate_name(name: str, field: str = "name", max_len: int = 100) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("名称不能为空", field=field)
    if (refused := nul_in(name, field)) is not None:
        raise refused
    if len(name) > max_len:
        raise InvalidInput("名称不能超过 {length} 个字", field=field, length=max_len)
    return name


def validate_portal(portal: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(portal) - PORTAL_KEYS)
    if unknown:
        raise InvalidInput("门户设置不认识的项：{keys}；可用：{choices}", field="portal",
                           keys=", ".join(unknown), choices=", ".join(sorted(PORTAL_KEYS)))
    for key, value in portal.items():
        if key in PORTAL_SWITCHES:
            if not isinstance(value, bool):
                raise InvalidInput("门户设置 {key} 须为 true 或 false", field=f"portal.{key}", key=key)
            continue
        limit = LONG_PORTAL_TEXT.get(key, 500)
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidInput("门户设置 {key} 须为不超过 {limit} 字的文本", field=f"portal.{key}", key=key, limit=limit)
    months = portal.get("phone_retention_months")
    if months is not None and not (months.isdecimal() and 1 <= int(months) <= 120):
        raise InvalidInput("手机号保存期限须为 1–120 个月", field="portal.phone_retention_months")
    least = portal.get("rates_min_concerns")
    if least is not None and not (least.isdecimal() and 1 <= int(least) <= 10000):
        raise InvalidInput("参与红黑榜排名的最少诉求数须为 1–10000", field="portal.rates_min_concerns")
    if "reference_prefix" in portal and not REFERENCE_PREFIX_RE.fullmatch(portal["reference_prefix"]):
        raise InvalidInput("诉求编号前缀须为 2–6 个大写字母，如 JSX", field="portal.reference_prefix")
    return portal


def validate_plugins(plugins: Iterable[str], installed: Iterable[str]) -> list[str]:
    installed = sorted(installed)
    unknown = sorted(set(plugins) - set(installed))
    if unknown:
        available = ", ".join(installed) if installed else Label("（无）")
        raise InvalidInput("未安装的插件：{plugins}；已安装：{installed}", field="plugins",
                           plugins=", ".join(unknown), installed=available)
    return sorted(set(plugins))


def to_out(tenant: Tenant, parent_slug: str | None) -> TenantOut:
    return TenantOut(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        kind=tenant.kind,
        parent=parent_slug,
        depth=tenant.path.count("/") - 1,
        plugins=list(tenant.plugins or []),
        portal=dict(tenant.portal or {}),
        archived=tenant.archived,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )


_Parent = aliased(Tenant)
_WITH_PARENT = select(Tenant, _Parent.slug).outerjoin(_Parent, Tenant.parent_id == _Parent.id)


# Buildings given with a new compound are written in its transaction, which holds SQLite's write lock: a list of
# 10,000 held it for 25 s. No real compound comes near this; a larger one is added in several requests.
MAX_BUILDINGS_AT_ONCE = 500

class TenantService:
    """Reads and changes of the tree. Authorization happens before a call reaches here."""

    def __init__(self, session: AsyncSession, installed_plugins: Iterable[str] = ()) -> None:
        self.session = session
        self.installed_plugins = tuple(installed_plugins)

    async def find(self, slug: str) -> tuple[Tenant, str | None] | None:
        row = (await self.session.execute(_WITH_PARENT.where(Tenant.slug == slug))).first()
        return (row[0], row[1]) if row else None

    async def get(self, slug: str) -> tuple[Tenant, str | None]:
        found = await self.find(slug)
        if found is None:
            raise NotFound("没有租户 {slug}", slug=slug)
        return found

    async def create(self, slug: str, name: str, kind: str, parent: Tenant | None,
                     plugins: Sequence[str] = (), portal: dict[str, Any] | None = None) -> Tenant:
        validate_slug(slug)
        name = validate_name(name)
        if kind not in TENANT_KINDS:
            raise not_one_of("kind", TENANT_KINDS)
        parent_kind = parent.kind if parent else None
        if parent_kind not in ALLOWED_PARENT_KINDS[kind]:
            allowed = [Label(KIND_NAMES[k]) if k else Label("顶级")
                       for k in sorted(ALLOWED_PARENT_KINDS[kind], key=lambda k: TENANT_KINDS.index(k) if k else -1)]
            raise InvalidInput("{kind}只能设在{parents}之下", field="parent", kind=Label(KIND_NAMES[kind]),
                               parents=allowed)
        if parent is not None and parent.archived:
            raise Conflict("上级租户 {slug} 已归档，不能再开设下级", slug=parent.slug)
        tenant_id = uuid7()
        tenant = Tenant(
            id=tenant_id,
            slug=slug,
            name=name,
            kind=kind,
            parent_id=parent.id if parent else None,
            path=tenant_path(parent.path if parent else None, tenant_id),
            plugins=validate_plugins(plugins, self.installed_plugins),
            portal=validate_portal(portal or {}),
            archived=False,
        )
        self.session.add(tenant)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise Conflict("slug {slug} 已被使用", field="slug", slug=slug) from None
        return tenant

    async def update(self, tenant: Tenant, *, name: str | None = None, plugins: Sequence[str] | None = None,
                     portal: dict[str, Any] | None = None, archived: bool | None = None) -> Tenant:
        if name is not None:
            tenant.name = validate_name(name)
        if plugins is not None:
            tenant.plugins = validate_plugins(plugins, self.installed_plugins)
        if portal is not None:
            tenant.portal = validate_portal(portal)
        if archived is not None:
            tenant.archived = archived
        await self.session.flush()
        return tenant

    async def children(self, tenant: Tenant, limit: int, offset: int) -> tuple[list[TenantOut], int]:
        return await self._page(Tenant.parent_id == tenant.id, limit, offset)

    async def descendants(self, tenant: Tenant, limit: int, offset: int) -> tuple[list[TenantOut], int]:
        return await self._page(Tenant.path.startswith(tenant.path) & (Tenant.id != tenant.id), limit, offset)

    async def _page(self, where: Any, limit: int, offset: int) -> tuple[list[TenantOut], int]:
        total = await self.session.scalar(select(func.count()).select_from(Tenant).where(where))
        rows = await self.session.execute(
            _WITH_PARENT.where(where).order_by(Tenant.path, Tenant.slug).limit(limit).offset(offset)
        )
        return [to_out(t, parent_slug) for t, parent_slug in rows], int(total or 0)


class CompoundService:
    """小区与楼栋 of the current tenant (the session is already scoped to it). Names are unique: a compound's in
    its community, a building's in its compound. Archived ones are kept (what names them still shows their
    name) and offered to nobody: `all()` leaves them out, `resolve_place` refuses them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self, *, archived: bool = False) -> list[CompoundOut]:
        """The compounds and buildings a person may choose; with `archived`, the archived ones too (for staff)."""
        compounds = select(Compound).order_by(Compound.name)
        buildings = select(Building).order_by(Building.name)
        if not archived:
            compounds = compounds.where(Compound.archived.is_(False))
            buildings = buildings.where(Building.archived.is_(False))
        by_compound: dict[uuid.UUID, list[BuildingOut]] = {}
        for b in (await self.session.scalars(buildings)).all():
            by_compound.setdefault(b.compound_id, []).append(self._building_out(b))
        return [self._out(c, by_compound.get(c.id, [])) for c in (await self.session.scalars(compounds)).all()]

    async def get(self, compound_id: uuid.UUID) -> CompoundOut:
        """One compound, archived or not, with all its buildings."""
        compound = await self._compound(compound_id)
        buildings = (
            await self.session.scalars(
                select(Building).where(Building.compound_id == compound.id).order_by(Building.name)
            )
        ).all()
        return self._out(compound, [self._building_out(b) for b in buildings])

    async def create(self, name: str, has_property_company: bool = True, buildings: Sequence[str] = (),
                     tenant_kind: str = "community") -> CompoundOut:
        if tenant_kind != "community":
            raise Conflict("小区只能设在社区之下，不能设在{kind}", kind=Label(KIND_NAMES[tenant_kind]))
        if len(buildings) > MAX_BUILDINGS_AT_ONCE:
            raise InvalidInput("楼栋一次最多新增 {limit} 个", field="buildings", limit=MAX_BUILDINGS_AT_ONCE)
        name = validate_name(name)
        await self._refuse_taken_compound(name)
        compound = Compound(name=name, has_property_company=has_property_company, archived=False)
        self.session.add(compound)
        await self._flush_unique(Conflict("小区 {name} 已存在", field="name", name=name))
        for building in buildings:
            await self.add_building(compound.id, building)
        return await self.get(compound.id)

    async def update(self, compound_id: uuid.UUID, *, name: str | None = None,
                     archived: bool | None = None) -> CompoundOut:
        """Rename a compound or archive it (or bring it back); only what is given changes."""
        compound = await self._compound(compound_id)
        if name is not None:
            name = validate_name(name)
            if name != compound.name:
                await self._refuse_taken_compound(name)
                compound.name = name
        if archived is not None:
            compound.archived = archived
        await self._flush_unique(Conflict("小区 {name} 已存在", field="name", name=compound.name))
        return await self.get(compound.id)

    async def add_building(self, compound_id: uuid.UUID, name: str) -> BuildingOut:
        compound = await self._compound(compound_id)
        if compound.archived:
            raise Conflict("小区 {name} 已归档，恢复后才能新增楼栋", name=compound.name)
        name = validate_name(name, max_len=50)
        await self._refuse_taken_building(compound.id, name)
        building = Building(compound_id=compound.id, name=name, archived=False)
        self.session.add(building)
        await self._flush_unique(Conflict("楼栋 {name} 已存在", field="name", name=name))
        return self._building_out(building)

    async def update_building(self, compound_id: uuid.UUID, building_id: uuid.UUID, *, name: str | None = None,
                              archived: bool | None = None) -> BuildingOut:
        """Rename a building or archive it (or bring it back); only what is given changes."""
        compound = await self._compound(compound_id)
        building = await self.session.scalar(
            select(Building).where(Building.id == building_id, Building.compound_id == compound.id))
        if building is None:
            raise NotFound("这个小区没有这个楼栋")
        if name is not None:
            name = validate_name(name, max_len=50)
            if name != building.name:
                await self._refuse_taken_building(compound.id, name)
                building.name = name
        if archived is not None:
            building.archived = archived
        await self._flush_unique(Conflict("楼栋 {name} 已存在", field="name", name=building.name))
        return self._building_out(building)

    async def _refuse_taken_compound(self, name: str) -> None:
        taken = await self.session.scalar(select(Compound.archived).where(Compound.name == name))
        if taken is not None:
            raise (Conflict("小区 {name} 已存在（已归档，可恢复）", field="name", name=name) if taken
                   else Conflict("小区 {name} 已存在", field="name", name=name))

    async def _refuse_taken_building(self, compound_id: uuid.UUID, name: str) -> None:
        taken = await self.session.scalar(
            select(Building.archived).where(Building.compound_id == compound_id, Building.name == name))
        if taken is not None:
            raise (Conflict("楼栋 {name} 已存在（已归档，可恢复）", field="name", name=name) if taken
                   else Conflict("楼栋 {name} 已存在", field="name", name=name))

    async def _flush_unique(self, conflict: Conflict) -> None:
        """Flush; a name another request took in the meantime is the same refusal as one taken before."""
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise conflict from None

    async def _compound(self, compound_id: uuid.UUID) -> Compound:
        compound = await self.session.scalar(select(Compound).where(Compound.id == compound_id))
        if compound is None:
            raise NotFound("没有这个小区")
        return compound

    @staticmethod
    def _building_out(building: Building) -> BuildingOut:
        return BuildingOut(id=building.id, name=building.name, archived=building.archived)

    @staticmethod
    def _out(compound: Compound, buildings: list[BuildingOut]) -> CompoundOut:
        return CompoundOut(
            id=compound.id, name=compound.name, has_property_company=compound.has_property_company,
            buildings=buildings, archived=compound.archived,
        )


async def place_names(session: AsyncSession, compounds: Iterable[uuid.UUID | None],
                      buildings: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The names of these compounds and buildings of the session's tenant, archived ones too (what was said
    about a place keeps its name), in two queries whatever their number."""
    compound_ids, building_ids = {c for c in compounds if c}, {b for b in buildings if b}
    names: dict[uuid.UUID, str] = {}
    if compound_ids:
        names.update((await session.execute(
            select(Compound.id, Compound.name).where(Compound.id.in_(compound_ids)))).all())
    if building_ids:
        names.update((await session.execute(
            select(Building.id, Building.name).where(Building.id.in_(building_ids)))).all())
    return names


async def resolve_place(session: AsyncSession, compound: uuid.UUID | None,
                        building: uuid.UUID | None) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The compound and building of the session's tenant that a form named (a building implies its compound),
    or a refusal naming the field that is not the tenant's, or no longer offered (archived)."""
    if building is not None:
        found = (await session.execute(
            select(Building.compound_id, Building.archived, Compound.archived)
            .join(Compound, Compound.id == Building.compound_id).where(Building.id == building))).first()
        if found is None:
            raise InvalidInput("本社区没有这个楼栋", field="building")
        compound_id, building_archived, compound_archived = found
        if compound is not None and compound_id != compound:
            raise InvalidInput("楼栋不属于所选小区", field="building")
        if building_archived or compound_archived:
            raise InvalidInput("这个楼栋已归档，请另选", field="building")
        return compound_id, building
    if compound is not None:
        archived = await session.scalar(select(Compound.archived).where(Compound.id == compound))
        if archived is None:
            raise InvalidInput("本社区没有这个小区", field="compound")
        if archived:
            raise InvalidInput("这个小区已归档，请另选", field="compound")
    return compound, None


BUILDING_RANGE = re.compile(r"^(\d{1,4})\s*[-–—~～至到]\s*(\d{1,4})\s*(\S*)$")


def expand_buildings(text: str) -> list[str]:
    """Buildings as staff paste them: one per line or separated by commas (，、,), and ranges that say the rest:
    "1-20号楼" is 1号楼 … 20号楼, "3-5栋" 3栋 4栋 5栋. Refused when a range runs backwards or is too long."""
    names: list[str] = []
    for part in re.split(r"[\n,，、;；]+", text):
        part = part.strip()
        if not part:
            continue
        found = BUILDING_RANGE.fullmatch(part)
        if found is None:
            names.append(part)
            continue
        first, last, suffix = int(found.group(1)), int(found.group(2)), found.group(3)
        if last < first or last - first >= MAX_BUILDINGS_AT_ONCE:
            raise InvalidInput("楼栋范围 {range} 不对：须从小到大，且一次最多 {limit} 个", field="buildings",
                               range=part, limit=MAX_BUILDINGS_AT_ONCE)
        names.extend(f"{number}{suffix}" for number in range(first, last + 1))
    if len(names) > MAX_BUILDINGS_AT_ONCE:
        raise InvalidInput("楼栋一次最多新增 {limit} 个", field="buildings", limit=MAX_BUILDINGS_AT_ONCE)
    return list(dict.fromkeys(names))


async def tenants_named(session: AsyncSession, slug: str | None) -> Sequence[Tenant]:
    """The tenant `slug` names (NotFound if none does), or every tenant, in tree order: what an operator's
    command over "one tenant, or all" acts on."""
    statement = select(Tenant).order_by(Tenant.path)
    if slug:
        statement = statement.where(Tenant.slug == slug)
    found = (await session.scalars(statement)).all()
    if slug and not found:
        raise NotFound("没有租户 {slug}", slug=slug)
    return found
