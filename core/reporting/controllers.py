"""The statistics API: a tenant's figures and its subtree's for a period."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import QueryParameter

from core import clock
from core.http import Scope, provide_tenant_scope
from core.inputs import period
from core.reporting.schemas import StatsOut
from core.reporting.services import tenant_stats


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
