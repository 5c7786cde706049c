"""HTTP routes of concerns: filing (idempotent; by phone alone, without an account, too), reading, triage, photos,
categories and escalations."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Annotated

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from core.concerns.by_phone import PHONE_FILERS, file_by_phone
from core.concerns.corrections import CorrectionService
from core.concerns.models import DEFAULT_CATEGORIES
from core.concerns.schemas import (
    CategoryIn,
    CategoryOut,
    ConcernByPhone,
    ConcernCreate,
    ConcernCreated,
    ConcernEdit,
    ConcernFix,
    ConcernOut,
    ConcernPage,
    ConcernWithdrawal,
    EscalationReturn,
    FiledByPhone,
    PhotoOut,
    PublicSummaryIn,
    Triage,
)
from core.concerns.services import ConcernFilters, ConcernService, filed_answer
from core.http import (
    Cursor,
    DbSession,
    Limit,
    Offset,
    PublicTenant,
    Scope,
    provide_public_tenant,
    provide_tenant_scope,
)
from core.idempotency import Claim, IdempotencyKey, once, request_fingerprint
from core.inputs import period
from core.media import clean_upload


@dataclass
class PhotoUpload:
    """multipart/form-data with one field, `file`."""

    file: UploadFile


PhotoForm = Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)]


def _service(request: Request, session: DbSession, scope: Scope) -> ConcernService:
    return ConcernService(session, scope, request.app.state.photo_store)


class ConcernController(Controller):
    path = "/api/v1/tenants/{slug:str}/concerns"
    tags = ["诉求 Concerns"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/", opt={"action": "concern.file"}, summary="反映诉求（居民本人，或网格员/工作人员代居民）",
          status_code=201)
    async def file_concern(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                           data: JSONBody[ConcernCreate], idempotency_key: IdempotencyKey = None) -> Response[ConcernCreated]:
        service = _service(request, db_session, tenant_scope)
        fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
        claim = Claim.of(tenant_scope.tenant.id, tenant_scope.user_id, idempotency_key, fingerprint)

        async def run() -> tuple[int, dict]:
            return 201, filed_answer(await service.file(data, claim))

        status, body = await once(db_session, claim, run)
        return Response(ConcernCreated(**body), status_code=status)

    @get("/", opt={"action": "concern.read"}, summary="诉求列表（工作人员看全部，居民与网格员看自己经手的）")
    async def list_concerns(
        self, request: Request, db_session: DbSession, tenant_scope: Scope, status: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None, compound: FromQuery[uuid.UUID | None] = None,
        created_from: FromQuery[datetime.date | None] = None, created_to: FromQuery[datetime.date | None] = None,
        sort: FromQuery[str] = "-created_at", in_topic: FromQuery[bool | None] = None,
        light: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0, cursor: Cursor = None,
    ) -> ConcernPage:
        period(created_from, created_to, fields=("created_from", "created_to"))
        service = _service(request, db_session, tenant_scope)
        filters = ConcernFilters(status, category, compound, created_from, created_to, sort, in_topic, light)
        page = await service.page(filters, limit, offset, cursor)
        return ConcernPage(items=await service.to_out(page.items), limit=limit, offset=offset, total=page.total,
                           next_cursor=page.next_cursor)

    @get("/{concern_id:uuid}", opt={"action": "concern.read"}, summary="查看诉求")
    async def get_concern(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                          concern_id: FromPath[uuid.UUID]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        return (await service.to_out([await service.get(concern_id)]))[0]

    @post("/{concern_id:uuid}/triage", opt={"action": "concern.triage"}, status_code=200,
          summary="分办：accept 受理 / reject 驳回 / resolve_directly 直接办结 / escalate 上报")
    async def triage_concern(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                             concern_id: FromPath[uuid.UUID], data: JSONBody[Triage]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        concern = await service.triage(concern_id, data.action, data.reason, data.note)
        return (await service.to_out([concern]))[0]

    @patch("/{concern_id:uuid}", opt={"action": "concern.file"},
           summary="反映人修改自己的诉求（标题、描述、分类、地点；工作人员分办前）")
    async def edit_concern(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                           concern_id: FromPath[uuid.UUID], data: JSONBody[ConcernEdit]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        concern = await CorrectionService(service).edit(concern_id, data)
        return (await service.to_out([concern]))[0]

    @post("/{concern_id:uuid}/withdraw", opt={"action": "concern.file"}, status_code=200,
          summary="反映人撤回自己的诉求（工作人员分办前；可说明原因）")
    async def withdraw_concern(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                               concern_id: FromPath[uuid.UUID], data: JSONBody[ConcernWithdrawal]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        concern = await CorrectionService(service).withdraw(concern_id, data.reason)
        return (await service.to_out([concern]))[0]

    @post("/{concern_id:uuid}/correction", opt={"action": "concern.triage"}, status_code=200,
          summary="工作人员更正诉求的分类或地点（小区、楼栋），须说明理由")
    async def correct_concern(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                              concern_id: FromPath[uuid.UUID], data: JSONBody[ConcernFix]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        concern = await CorrectionService(service).fix(concern_id, data)
        return (await service.to_out([concern]))[0]

    @put("/{concern_id:uuid}/public-summary", opt={"action": "concern.triage"},
         summary="改写公开摘要：公众看到的是它，而不是标题；留空则恢复为去除个人信息后的标题")
    async def set_public_summary(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                                 concern_id: FromPath[uuid.UUID], data: JSONBody[PublicSummaryIn]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        concern = await service.set_public_summary(concern_id, data.public_summary)
        return (await service.to_out([concern]))[0]

    @post("/{concern_id:uuid}/photos", opt={"action": "concern.read"}, status_code=201,
          summary="补充照片（JPEG/PNG/WebP，10 MB 以内；去除 EXIF 与定位信息）")
    async def add_photo(self, request: Request, db_session: DbSession, slug: FromPath[str],
                        concern_id: FromPath[uuid.UUID], data: PhotoForm) -> PhotoOut:
        image = await clean_upload(await data.file.read())  # before the first query: see clean_upload
        tenant_scope = await provide_tenant_scope(request, db_session, slug)
        photo = await _service(request, db_session, tenant_scope).add_photo(concern_id, image)
        return PhotoOut(id=photo.id, content_type=photo.content_type, width=photo.width, height=photo.height,
                        size=photo.size)

    @get("/{concern_id:uuid}/photos/{photo_id:uuid}", opt={"action": "concern.read"}, summary="查看照片",
         media_type="image/*")
    async def get_photo(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                        concern_id: FromPath[uuid.UUID], photo_id: FromPath[uuid.UUID]) -> Response[bytes]:
        data, content_type = await _service(request, db_session, tenant_scope).photo(concern_id, photo_id)
        return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


class PhoneFilingController(Controller):
    """A resident with no account files one concern, proving their phone by a code (the purpose `file`)."""

    path = "/api/v1/tenants/{slug:str}/public/concerns"  # with no account: public, as joining is
    tags = ["诉求 Concerns"]
    dependencies = {"tenant": Provide(provide_public_tenant)}

    @post("/", exclude_from_auth=True, status_code=201,
          summary="不注册，以手机验证码（用途 file）反映一条诉求；回答编号与查询码，不含手机号；注册后归入“我的诉求”")
    async def file_by_phone(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                            data: JSONBody[ConcernByPhone], idempotency_key: IdempotencyKey = None) -> Response[FiledByPhone]:
        slug = tenant.slug  # read now: a replayed retry rolls the session back (and expires the tenant)
        fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
        claim = Claim.of(tenant.id, PHONE_FILERS, idempotency_key, fingerprint)
        concern = ConcernCreate(title=data.title, description=data.description, category=data.category,
                                compound=data.compound, building=data.building, place=data.place)

        async def run() -> tuple[int, dict]:
            return 201, filed_answer(await file_by_phone(
                db_session, tenant, concern, phone=data.phone, code=data.code, name=data.name,
                accept_privacy=data.accept_privacy, privacy_version=data.privacy_version,
                secret=request.app.state.settings.secret_key, claim=claim))

        # The code is spent by the first attempt: a retry is answered from its record before it is checked.
        status, body = await once(db_session, claim, run, look_first=True)
        return Response(FiledByPhone(reference=body["reference"], status=body["status"],
                                     tracking_code=body["tracking_code"],
                                     track=f"/t/{slug}/track/{body['tracking_code']}"), status_code=status)


class CategoryController(Controller):
    path = "/api/v1/tenants/{slug:str}/categories"
    tags = ["诉求 Concerns"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "tenant.read"}, summary="诉求分类（默认分类与本租户增加的）")
    async def list_categories(self, request: Request, db_session: DbSession, tenant_scope: Scope) -> list[CategoryOut]:
        categories = await _service(request, db_session, tenant_scope).categories()
        return [CategoryOut(code=c, name=n, default=c in DEFAULT_CATEGORIES) for c, n in categories.items()]

    @post("/", opt={"action": "category.manage"}, summary="增加诉求分类")
    async def add_category(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                           data: JSONBody[CategoryIn]) -> CategoryOut:
        await _service(request, db_session, tenant_scope).add_category(data.code, data.name)
        return CategoryOut(code=data.code, name=data.name.strip(), default=False)


class EscalationController(Controller):
    """小事不出居、大事不出街: what the communities below escalated, for this level to take over or send back."""

    path = "/api/v1/tenants/{slug:str}/escalations"
    tags = ["诉求 Concerns"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "concern.escalation"}, summary="下级上报、待本级处理的诉求")
    async def list_escalations(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                               limit: Limit = 50, offset: Offset = 0) -> OffsetPagination[ConcernOut]:
        service = _service(request, db_session, tenant_scope)
        page, total = await service.escalations(limit, offset)
        return OffsetPagination(items=await service.to_out(page), limit=limit, offset=offset, total=total)

    @post("/{concern_id:uuid}/take_over", opt={"action": "concern.escalation"}, status_code=201,
          summary="接办：本级立一条诉求处理，原诉求标为「上级已接办」")
    async def take_over(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                        concern_id: FromPath[uuid.UUID]) -> ConcernOut:
        service = _service(request, db_session, tenant_scope)
        return (await service.to_out([await service.take_over(concern_id)]))[0]

    @post("/{concern_id:uuid}/return", opt={"action": "concern.escalation"}, status_code=200,
          summary="退回下级并附处理意见")
    async def send_back(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                        concern_id: FromPath[uuid.UUID], data: JSONBody[EscalationReturn]) -> dict[str, str]:
        concern = await _service(request, db_session, tenant_scope).send_back(concern_id, data.instructions)
        return {"reference": concern.reference, "status": concern.status}
