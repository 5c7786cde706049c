"""HTTP routes of time limits: the effective policy with where each value came from, and replacing the tenant's own;
pausing and resuming a concern's clock, asking the level above for an extension (延期) and deciding one; and
revisits (回访: a resolved concern's rounds, and answering the open one)."""

from __future__ import annotations

import uuid

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, get, post, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody

from core.concerns.models import Concern
from core.concerns.schemas import ConcernOut
from core.concerns.services import ConcernService
from core.http import DbSession, Limit, Offset, Scope, provide_tenant_scope
from core.timelimits.adjustments import ClockService, extension_out
from core.timelimits.revisits import RevisitService, revisit_out
from core.timelimits.schemas import (
    ExtensionDecisionIn,
    ExtensionIn,
    ExtensionOut,
    PauseIn,
    PolicyIn,
    PolicyOut,
    RevisitIn,
    RevisitOut,
)
from core.timelimits.services import PolicyService, categories, effective_policy, policy_out


class TimeLimitController(Controller):
    path = "/api/v1/tenants/{slug:str}/time-limits"
    tags = ["时限 Time limits"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "timelimit.read"},
         summary="生效的时限（继承上级之后），每个值注明来自哪一级；以及本级自己设的值")
    async def get_policy(self, db_session: DbSession, tenant_scope: Scope) -> PolicyOut:
        policy = await effective_policy(db_session, tenant_scope.tenant)
        return policy_out(tenant_scope.tenant, policy, await categories(db_session))

    @put("/", opt={"action": "timelimit.manage"},
         summary="替换本级自己设的时限、工作时间与上报设置（只能收紧上级的时限；未列出的继承上级）")
    async def put_policy(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[PolicyIn]) -> PolicyOut:
        policy = await PolicyService(db_session, tenant_scope.tenant).replace(data)
        return policy_out(tenant_scope.tenant, policy, await categories(db_session))


class RevisitController(Controller):
    path = "/api/v1/tenants/{slug:str}/concerns/{concern_id:uuid}"
    tags = ["回访 Revisits"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/revisits", opt={"action": "concern.read"},
         summary="诉求的回访：每次办结一轮，居民答是否解决、是否满意（未答的一轮 answered_at 为空）")
    async def list_revisits(self, db_session: DbSession, tenant_scope: Scope,
                            concern_id: FromPath[uuid.UUID]) -> list[RevisitOut]:
        concern = await ConcernService(db_session, tenant_scope).get(concern_id)
        return [revisit_out(r) for r in await RevisitService(db_session, tenant_scope).rounds(concern)]

    @post("/revisit", opt={"action": "concern.read"}, status_code=200,
          summary="回答本轮回访：居民本人（channel self）或工作人员记录电话回访（channel phone）；"
                  "未解决（solved false）即重办，按新的时限办理")
    async def answer_revisit(self, db_session: DbSession, tenant_scope: Scope, concern_id: FromPath[uuid.UUID],
                             data: JSONBody[RevisitIn]) -> RevisitOut:
        return revisit_out(await RevisitService(db_session, tenant_scope).answer(concern_id, data))


async def _answer(request: Request, session: DbSession, scope: Scope, concern: Concern) -> ConcernOut:
    service = ConcernService(session, scope, request.app.state.photo_store)
    return (await service.to_out([concern]))[0]


class ConcernClockController(Controller):
    """A concern's clock by hand: paused and resumed by its tenant's staff, an extension asked of the level above."""

    path = "/api/v1/tenants/{slug:str}/concerns/{concern_id:uuid}"
    tags = ["时限 Time limits"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/pause", opt={"action": "concern.triage"}, status_code=200,
          summary="暂停计时：waiting_resident 等待居民 / waiting_department 等待部门 / other 其他（须写说明）")
    async def pause(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                    concern_id: FromPath[uuid.UUID], data: JSONBody[PauseIn]) -> ConcernOut:
        concern = await ClockService(db_session, tenant_scope).pause(concern_id, data.reason, data.note)
        return await _answer(request, db_session, tenant_scope, concern)

    @post("/resume", opt={"action": "concern.triage"}, status_code=200,
          summary="恢复计时：尚未到的时限顺延暂停的时长（工作时间的时限顺延暂停期间的工作时间）")
    async def resume(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                     concern_id: FromPath[uuid.UUID]) -> ConcernOut:
        concern = await ClockService(db_session, tenant_scope).resume(concern_id)
        return await _answer(request, db_session, tenant_scope, concern)

    @post("/extensions", opt={"action": "concern.triage"}, status_code=201,
          summary="申请延期：向上级申请延长办结时限（ISO 8601 时长，按办结时限的计法计）")
    async def request_extension(self, db_session: DbSession, tenant_scope: Scope, concern_id: FromPath[uuid.UUID],
                                data: JSONBody[ExtensionIn]) -> ExtensionOut:
        service = ClockService(db_session, tenant_scope)
        extension = await service.request_extension(concern_id, data.extra, data.reason)
        concern = await ConcernService(db_session, tenant_scope).get(concern_id)
        return extension_out(extension, concern, tenant_scope.tenant)


class ExtensionController(Controller):
    """延期 asked of this level by the tenants directly below, to approve or refuse."""

    path = "/api/v1/tenants/{slug:str}/extensions"
    tags = ["时限 Time limits"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "concern.extension_decide"}, summary="下级待审批的延期申请")
    async def list_extensions(self, db_session: DbSession, tenant_scope: Scope, limit: Limit = 50,
                              offset: Offset = 0) -> OffsetPagination[ExtensionOut]:
        items, total = await ClockService(db_session, tenant_scope).pending_extensions(limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @post("/{extension_id:uuid}/decision", opt={"action": "concern.extension_decide"}, status_code=200,
          summary="审批延期：approve 批准（办结时限顺延）或不批准（须写意见）")
    async def decide(self, db_session: DbSession, tenant_scope: Scope, extension_id: FromPath[uuid.UUID],
                     data: JSONBody[ExtensionDecisionIn]) -> ExtensionOut:
        return await ClockService(db_session, tenant_scope).decide(extension_id, data.approve, data.note)
