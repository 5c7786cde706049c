"""HTTP routes of time limits: the effective policy with where each value came from, and replacing the tenant's own."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import Provide
from litestar.params import JSONBody

from core.http import DbSession, Scope, provide_tenant_scope
from core.timelimits.schemas import PolicyIn, PolicyOut
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
