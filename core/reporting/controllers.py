"""The statistics API: a tenant's figures and its subtree's for a period, and its rates for a month with the
ranking of the communities below."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import QueryParameter

from core import clock
from core.http import Scope, provide_tenant_scope
from core.inputs import period
from core.reporting.rates import ranking, report_month, tenant_rates
from core.reporting.schemas import RankingOut, RatesOut, StatsOut
from core.reporting.services import tenant_stats

Month = Annotated[str | None, QueryParameter(max_length=16, description="年月，如 2026-11（北京时间，默认本月）")]


class StatsController(Controller):
    path = "/api/v1/tenants/{slug:str}/stats"
    tags = ["统计 Statistics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "stats.read"}, summary="统计：本级与所辖全部下级（from/to 为日期，默认今年）")
    async def get_stats(self, tenant_scope: Scope, date_from: Annotated[
            datetime.date | None, QueryParameter(name="from")] = None, date_to: Annotated[
            datetime.date | None, QueryParameter(name="to")] = None) -> StatsOut:
        today = clock.today()
        date_from = date_from or datetime.date(today.year, 1, 1)
        date_to = date_to or today
        period(date_from, date_to)
        return await tenant_stats(tenant_scope, date_from, date_to)


class RatesController(Controller):
    path = "/api/v1/tenants/{slug:str}/rates"
    tags = ["统计 Statistics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "rates.read"}, summary="接诉即办“三率”等：本级与所辖全部下级的某月（定义见 docs/rates.md）")
    async def get_rates(self, tenant_scope: Scope, month: Month = None) -> RatesOut:
        return await tenant_rates(tenant_scope, report_month(month))

    @get("/ranking", opt={"action": "rates.read"}, summary="红黑榜：所辖社区某月按综合得分排名（诉求数不足 min 件的不排名）")
    async def get_ranking(self, tenant_scope: Scope, month: Month = None, minimum: Annotated[
            int | None, QueryParameter(name="min", ge=1, le=100000, description="参与排名的最少诉求数（默认区里的设置，否则 10）")] = None,
    ) -> RankingOut:
        return await ranking(tenant_scope, report_month(month), minimum)
