"""The public API, no sign-in: follow a concern, published results, a portal's figures and blocks, photos, and
open data at stable addresses."""

from __future__ import annotations

import uuid
from typing import Any

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from core.concerns.schemas import PublicConcern
from core.concerns.services import public_status
from core.http import DbSession, Limit, Offset, PublicTenant, client_address, provide_public_tenant
from core.publishing.opendata import CONTENT_TYPES, open_data
from core.publishing.schemas import PublicResult
from core.publishing.services import counting_below, public_photo, published_results
from core.reporting.rates import public_rates
from core.reporting.schemas import PublicRates, PublicStats
from core.reporting.services import public_stats, report_year


class PublicController(Controller):
    path = "/api/v1/tenants/{slug:str}/public"
    tags = ["公开 Public"]
    dependencies = {"tenant": Provide(provide_public_tenant)}
    opt = {"exclude_from_auth": True}

    @get("/concerns/{tracking_code:str}", summary="凭查询码（诉求编号加校验码，如 JSX-2026-000123-7QKM）查询进度（不含个人信息）",
         description="只有编号、校验码不对与编号不存在一样答 404；同一来源查错 30 次后，每次须等待的时间逐次加倍（最长 15 分钟），未到时答 429。")
    async def follow_concern(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                             tracking_code: FromPath[str]) -> PublicConcern:
        client = client_address(request)
        return await public_status(db_session, tenant, tracking_code, client)

    @get("/results", summary="已公开的协商结果及执行进度（新到旧）")
    async def results(self, db_session: DbSession, tenant: PublicTenant, limit: Limit = 20,
                      offset: Offset = 0) -> OffsetPagination[PublicResult]:
        items, total = await published_results(db_session, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/stats", summary="门户展示的年度数字：协商次数、办成实事（街道、区、市为下辖各社区之和）")
    async def stats(self, db_session: DbSession, tenant: PublicTenant, year: FromQuery[int | None] = None) -> PublicStats:
        return await public_stats(db_session, tenant, report_year(year))

    @get("/rates", summary="门户展示的年度响应率、解决率、满意率（各附分子、分母；街道、区、市为下辖合计；定义见 docs/rates.md）")
    async def rates(self, db_session: DbSession, tenant: PublicTenant, year: FromQuery[int | None] = None) -> PublicRates:
        async with counting_below(db_session, tenant):
            return await public_rates(db_session, tenant, report_year(year))

    @get("/blocks", summary="门户首页上各插件的板块（下次代表接待、下次每月一议事…）")
    async def blocks(self, request: Request, db_session: DbSession, tenant: PublicTenant) -> list[dict[str, Any]]:
        return await request.app.state.plugins.portal_blocks(db_session, tenant)

    @get("/photos/{photo_id:uuid}", summary="公开结果中的照片", media_type="image/*")
    async def photo(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                    photo_id: FromPath[uuid.UUID]) -> Response[bytes]:
        photo = await public_photo(db_session, photo_id)
        return Response(await request.app.state.photo_store.load(photo.storage_key), media_type=photo.content_type,
                        headers={"Cache-Control": "public, max-age=86400"})


def _format(request: Request) -> str:
    return request.url.path.rsplit(".", 1)[-1]


class OpenDataController(Controller):
    """Stable addresses, no sign-in: /api/v1/tenants/{slug}/public/open-data/{results,actions,stats,rates}.{csv,xlsx,json}."""

    path = "/api/v1/tenants/{slug:str}/public/open-data"
    tags = ["公开 Public"]
    dependencies = {"tenant": Provide(provide_public_tenant)}
    opt = {"exclude_from_auth": True}

    @get([f"/results.{fmt}" for fmt in CONTENT_TYPES], summary="开放数据：已公开的协商结果（CSV、XLSX、JSON）")
    async def results(self, request: Request, db_session: DbSession, tenant: PublicTenant) -> Response[bytes]:
        return await open_data(db_session, tenant, "results", _format(request))

    @get([f"/actions.{fmt}" for fmt in CONTENT_TYPES], summary="开放数据：已公开结果的执行事项与进度（CSV、XLSX、JSON）")
    async def actions(self, request: Request, db_session: DbSession, tenant: PublicTenant) -> Response[bytes]:
        return await open_data(db_session, tenant, "actions", _format(request))

    @get([f"/stats.{fmt}" for fmt in CONTENT_TYPES], summary="开放数据：逐年统计（协商次数、办成实事…）（CSV、XLSX、JSON）")
    async def stats(self, request: Request, db_session: DbSession, tenant: PublicTenant) -> Response[bytes]:
        return await open_data(db_session, tenant, "stats", _format(request))

    @get([f"/rates.{fmt}" for fmt in CONTENT_TYPES], summary="开放数据：逐月响应率、按时办结率、解决率、满意率等（CSV、XLSX、JSON）")
    async def rates(self, request: Request, db_session: DbSession, tenant: PublicTenant) -> Response[bytes]:
        return await open_data(db_session, tenant, "rates", _format(request))
