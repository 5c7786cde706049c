"""HTTP routes of the red pavilion under /api/v1/tenants/{slug}/pavilion, and its public calendar under
/api/v1/tenants/{slug}/public/pavilion (404 where not enabled)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from core.http import DbSession, Scope, provide_tenant_scope
from core.reporting.services import report_year
from core.tenancy.models import Tenant
from core.topics.calendar import ics_response, provide_feed_tenant
from plugins.red_pavilion.services import (
    HeldIn,
    MonthlyIn,
    OnDemandIn,
    PavilionService,
    SessionOut,
    Tally,
    VenueIn,
    VenueOut,
    session_calendar,
    venue_out,
)


class PavilionController(Controller):
    path = "/api/v1/tenants/{slug:str}/pavilion"
    tags = ["红色议事亭 Red pavilion"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/venues", opt={"action": "pavilion.read"}, summary="议事场所")
    async def list_venues(self, db_session: DbSession, tenant_scope: Scope) -> list[VenueOut]:
        return [venue_out(v) for v in await PavilionService(db_session, tenant_scope).venues()]

    @post("/venues", opt={"action": "pavilion.manage"}, summary="设立议事场所（红色议事亭、党群温馨庭院…）")
    async def create_venue(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[VenueIn]) -> VenueOut:
        return venue_out(await PavilionService(db_session, tenant_scope).create_venue(data))

    @post("/venues/{venue_id:uuid}/monthly", opt={"action": "pavilion.manage"}, status_code=200,
          summary="每月一议事：设定每月议事日，并提前安排下一次")
    async def set_monthly(self, db_session: DbSession, tenant_scope: Scope, venue_id: FromPath[uuid.UUID],
                          data: JSONBody[MonthlyIn]) -> SessionOut:
        service = PavilionService(db_session, tenant_scope)
        return (await service.shape([await service.set_monthly(venue_id, data)]))[0]

    @post("/sessions", opt={"action": "pavilion.manage"}, summary="有事来商量：随时召集议事会")
    async def call_session(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[OnDemandIn]) -> SessionOut:
        service = PavilionService(db_session, tenant_scope)
        return (await service.shape([await service.on_demand(data)]))[0]

    @get("/sessions", opt={"action": "pavilion.read"}, summary="议事会（upcoming=true 只看待召开的，含待议诉求）")
    async def list_sessions(self, db_session: DbSession, tenant_scope: Scope,
                            upcoming: FromQuery[bool] = False) -> list[SessionOut]:
        service = PavilionService(db_session, tenant_scope)
        return await service.shape(await service.sessions(upcoming))

    @post("/sessions/{session_id:uuid}/held", opt={"action": "pavilion.manage"}, status_code=200,
          summary="记录议事会召开：参加的党员、议定的议题")
    async def record_held(self, db_session: DbSession, tenant_scope: Scope, session_id: FromPath[uuid.UUID],
                          data: JSONBody[HeldIn]) -> SessionOut:
        service = PavilionService(db_session, tenant_scope)
        return (await service.shape([await service.hold(session_id, data)]))[0]

    @get("/tally", opt={"action": "pavilion.read"}, summary="年度党员参与议事统计")
    async def tally(self, db_session: DbSession, tenant_scope: Scope, year: FromQuery[int | None] = None) -> Tally:
        return await PavilionService(db_session, tenant_scope).tally(report_year(year))


class PavilionFeedController(Controller):
    """What anyone may subscribe to without signing in: when and where the pavilion meets."""

    path = "/api/v1/tenants/{slug:str}/public/pavilion"
    tags = ["红色议事亭 Red pavilion"]
    dependencies = {"tenant": Provide(provide_feed_tenant)}
    opt = {"exclude_from_auth": True}

    @get("/sessions.ics", media_type="text/calendar", summary="议事会日程订阅（iCalendar，无需登录）")
    async def sessions_ics(self, db_session: DbSession, tenant: NamedDependency[Tenant]) -> Response[bytes]:
        return ics_response(await session_calendar(db_session, tenant.name), f"{tenant.slug}-pavilion-sessions.ics")
