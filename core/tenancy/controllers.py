"""HTTP routes of the tenant tree under /api/v1/tenants: thin — parse, authorize, call the service."""

from __future__ import annotations

import uuid

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, get, patch, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound
from core.http import DbSession, Limit, Offset, Scope, current_grants, enter_tenant, provide_tenant_scope
from core.tenancy.schemas import (
    BuildingCreate,
    BuildingOut,
    BuildingUpdate,
    CompoundCreate,
    CompoundOut,
    CompoundUpdate,
    TenantCreate,
    TenantOut,
    TenantUpdate,
)
from core.tenancy.services import CompoundService, TenantService, to_out


def _service(request: Request, session: AsyncSession) -> TenantService:
    return TenantService(session, request.app.state.installed_plugins)


class TenantController(Controller):
    path = "/api/v1/tenants"
    tags = ["租户 Tenants"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/", summary="开设租户（上级管理员为其辖区开设街道、社区等）")
    async def create_tenant(self, request: Request, db_session: DbSession, data: JSONBody[TenantCreate]) -> TenantOut:
        service = _service(request, db_session)
        if data.parent is None:
            grants = await current_grants(request, db_session)
            if not grants.platform_admin:
                raise Forbidden("只有平台管理员可以开设顶级租户")
            parent = None
        else:
            try:
                parent = (await enter_tenant(request, db_session, data.parent, "tenant.create_child")).tenant
            except NotFound:
                raise NotFound("没有上级租户 {slug}", field="parent", slug=data.parent) from None
        tenant = await service.create(data.slug, data.name, data.kind, parent, data.plugins, data.portal)
        return to_out(tenant, data.parent)

    @get("/{slug:str}", opt={"action": "tenant.read"}, summary="查看租户")
    async def get_tenant(self, tenant_scope: Scope) -> TenantOut:
        return to_out(tenant_scope.tenant, tenant_scope.parent_slug)

    @get("/{slug:str}/children", opt={"action": "tenant.read"}, summary="直接下级租户")
    async def list_children(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                            limit: Limit = 50, offset: Offset = 0) -> OffsetPagination[TenantOut]:
        items, total = await _service(request, db_session).children(tenant_scope.tenant, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/{slug:str}/descendants", opt={"action": "tenant.read"}, summary="全部下级租户（整棵子树）")
    async def list_descendants(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                               limit: Limit = 50, offset: Offset = 0) -> OffsetPagination[TenantOut]:
        items, total = await _service(request, db_session).descendants(tenant_scope.tenant, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @patch("/{slug:str}", opt={"action": "tenant.update"}, summary="修改租户（名称、插件、门户设置、归档）")
    async def update_tenant(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                            data: JSONBody[TenantUpdate]) -> TenantOut:
        unset = msgspec.UNSET
        if data.archived is not unset and data.archived != tenant_scope.tenant.archived:
            tenant_scope.require("tenant.archive")
        await _service(request, db_session).update(
            tenant_scope.tenant,
            name=None if data.name is unset else data.name,
            plugins=None if data.plugins is unset else data.plugins,
            portal=None if data.portal is unset else data.portal,
            archived=None if data.archived is unset else data.archived,
        )
        return to_out(tenant_scope.tenant, tenant_scope.parent_slug)

    @get("/{slug:str}/compounds", opt={"action": "compound.read"}, summary="小区与楼栋（archived=true 含已归档的）")
    async def list_compounds(self, db_session: DbSession, tenant_scope: Scope,
                             archived: FromQuery[bool] = False) -> list[CompoundOut]:
        return await CompoundService(db_session).all(archived=archived)

    @post("/{slug:str}/compounds", opt={"action": "compound.manage"}, summary="新增小区")
    async def create_compound(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[CompoundCreate]) -> CompoundOut:
        return await CompoundService(db_session).create(data.name, data.has_property_company, data.buildings,
                                                        tenant_kind=tenant_scope.tenant.kind)

    @get("/{slug:str}/compounds/{compound_id:uuid}", opt={"action": "compound.read"}, summary="查看小区")
    async def get_compound(self, db_session: DbSession, tenant_scope: Scope, compound_id: FromPath[uuid.UUID]) -> CompoundOut:
        return await CompoundService(db_session).get(compound_id)

    @patch("/{slug:str}/compounds/{compound_id:uuid}", opt={"action": "compound.manage"},
           summary="修改小区（改名、归档或恢复）")
    async def update_compound(self, db_session: DbSession, tenant_scope: Scope, compound_id: FromPath[uuid.UUID],
                              data: JSONBody[CompoundUpdate]) -> CompoundOut:
        unset = msgspec.UNSET
        return await CompoundService(db_session).update(
            compound_id, name=None if data.name is unset else data.name,
            archived=None if data.archived is unset else data.archived)

    @post("/{slug:str}/compounds/{compound_id:uuid}/buildings", opt={"action": "compound.manage"},
          summary="新增楼栋")
    async def create_building(self, db_session: DbSession, tenant_scope: Scope, compound_id: FromPath[uuid.UUID],
                              data: JSONBody[BuildingCreate]) -> BuildingOut:
        return await CompoundService(db_session).add_building(compound_id, data.name)

    @patch("/{slug:str}/compounds/{compound_id:uuid}/buildings/{building_id:uuid}", opt={"action": "compound.manage"},
           summary="修改楼栋（改名、归档或恢复）")
    async def update_building(self, db_session: DbSession, tenant_scope: Scope, compound_id: FromPath[uuid.UUID],
                              building_id: FromPath[uuid.UUID], data: JSONBody[BuildingUpdate]) -> BuildingOut:
        unset = msgspec.UNSET
        return await CompoundService(db_session).update_building(
            compound_id, building_id, name=None if data.name is unset else data.name,
            archived=None if data.archived is unset else data.archived)
