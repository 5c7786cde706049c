"""HTTP routes of time limits (the effective policy with where each value came from, and replacing the tenant's own)
and of revisits (回访: a resolved concern's rounds, and answering the open one)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody

from core.concerns.services import ConcernService
from core.http import DbSession, Scope, provide_tenant_scope
from core.timelimits.revisits import RevisitService, revisit_out
from core.timelimits.schemas import PolicyIn, PolicyOut, RevisitIn, RevisitOut
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
