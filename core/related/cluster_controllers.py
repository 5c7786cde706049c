"""HTTP routes of related concerns in groups: topic suggestions for the new-topic form, and the month's hot topics
(每月一题) of a community or of everything below a street or district."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide

from core.http import Scope, provide_tenant_scope
from core.related.hot import HotOut, hot_topics
from core.related.suggestions import SuggestionOut, suggestion_out, suggestions
from core.reporting.controllers import Month
from core.reporting.rates import report_month


class SuggestionController(Controller):
    path = "/api/v1/tenants/{slug:str}/topics/suggestions"
    tags = ["议题 Topics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "topic.manage"},
         summary="议题建议：尚未纳入议题的已受理诉求按事项归类（如“充电难: 5 条, 银巴小区 11、14号楼”）")
    async def list_suggestions(self, tenant_scope: Scope) -> list[SuggestionOut]:
        return [suggestion_out(group) for group in await suggestions(tenant_scope)]


class HotController(Controller):
    path = "/api/v1/tenants/{slug:str}/related/hot"
    tags = ["统计 Statistics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "stats.read"},
         summary="每月一题：某月（北京时间，默认本月）诉求最集中的事项，本级与所辖各社区（事项不跨社区归类）")
    async def get_hot(self, tenant_scope: Scope, month: Month = None) -> HotOut:
        return await hot_topics(tenant_scope, report_month(month))
