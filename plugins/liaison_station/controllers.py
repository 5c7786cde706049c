"""HTTP routes of the liaison station under /api/v1/tenants/{slug}/liaison, and its public reception calendars
under /api/v1/tenants/{slug}/public/liaison (404 where not enabled)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.http import DbSession, Scope, provide_tenant_scope
from core.idempotency import Claim, IdempotencyKey, once, remember, request_fingerprint
from core.reporting.services import report_year
from core.tenancy.models import Tenant
from core.topics.calendar import ics_response, provide_feed_tenant
from plugins.liaison_station.models import STATION_KINDS, Station
from plugins.liaison_station.services import (
    DutyItemOut,
    FeedbackIn,
    LiaisonService,
    NoteIn,
    ReceptionIn,
    ReceptionOut,
    StationIn,
    StationOut,
    YearlyRecord,
    reception_calendar,
)


def _station(station: Station) -> StationOut:
    return StationOut(id=station.id, name=station.name, kind=station.kind, kind_name=STATION_KINDS[station.kind],
                      place=station.place, schedule=station.schedule)


class LiaisonController(Controller):
    path = "/api/v1/tenants/{slug:str}/liaison"
    tags = ["人大代表联络站 Liaison station"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/stations", opt={"action": "liaison.read"}, summary="联络站与代表接待安排")
    async def list_stations(self, db_session: DbSession, tenant_scope: Scope) -> list[StationOut]:
        return [_station(s) for s in await LiaisonService(db_session, tenant_scope).stations()]

    @post("/stations", opt={"action": "liaison.manage"}, summary="设立联络站（庭院联络站、楼头议事会、转角议事亭）")
    async def create_station(self, db_session: DbSession, tenant_scope: Scope, data: JSONBody[StationIn]) -> StationOut:
        return _station(await LiaisonService(db_session, tenant_scope).create_station(data))

    @post("/receptions", opt={"action": "liaison.reception"}, status_code=201,
          summary="记录接待：每条群众诉求列入代表的履职清单（route=duty_list）、交社区办理（route=concern，"
                  "community 为所属社区），或两者（默认）")
    async def record_reception(self, request: Request, db_session: DbSession, tenant_scope: Scope,
                               data: JSONBody[ReceptionIn], idempotency_key: IdempotencyKey = None) -> Response[ReceptionOut]:
        service = LiaisonService(db_session, tenant_scope)
        claim = Claim.of(tenant_scope.tenant.id, tenant_scope.user_id, idempotency_key,
                         request_fingerprint(request.method, request.url.path, await request.body()))

        async def run() -> tuple[int, dict]:
            reception, items, filed = await service.record_reception(data, request.app.state.photo_store)
            return await remember(db_session, claim, 201, msgspec.to_builtins(ReceptionOut(
                id=reception.id, station=reception.station_id, deputy=await service.username(reception.deputy_id),
                held_at=reception.held_at, residents_received=reception.residents_received,
                items=await service.shape(items), concerns=filed)))

        status, body = await once(db_session, claim, run)
        return Response(msgspec.convert(body, ReceptionOut), status_code=status)

    @get("/duty-list", opt={"action": "liaison.duty_list"}, summary="履职清单（代表看自己的，工作人员可按代表查看；街道、区看辖区内各社区的合并清单）")
    async def duty_list(self, db_session: DbSession, tenant_scope: Scope, deputy: FromQuery[str | None] = None,
                        item_state: Annotated[str | None, QueryParameter(name="state")] = None) -> list[DutyItemOut]:
        return await LiaisonService(db_session, tenant_scope).merged_duty_list(deputy, item_state)

    @post("/duty-list/{item_id:uuid}/notes", opt={"action": "liaison.duty_note"}, summary="记录履职情况")
    async def add_note(self, db_session: DbSession, tenant_scope: Scope, item_id: FromPath[uuid.UUID],
                       data: JSONBody[NoteIn]) -> DutyItemOut:
        service = LiaisonService(db_session, tenant_scope)
        return (await service.shape([await service.add_note(item_id, data)]))[0]

    @post("/duty-list/{item_id:uuid}/feedback", opt={"action": "liaison.duty_note"}, summary="记录群众评价")
    async def add_feedback(self, db_session: DbSession, tenant_scope: Scope, item_id: FromPath[uuid.UUID],
                           data: JSONBody[FeedbackIn]) -> DutyItemOut:
        service = LiaisonService(db_session, tenant_scope)
        return (await service.shape([await service.feedback(item_id, data)]))[0]

    @get("/deputies/{username:str}/record", opt={"action": "liaison.duty_list"}, summary="代表年度履职报告")
    async def yearly_record(self, db_session: DbSession, tenant_scope: Scope, username: FromPath[str],
                            year: FromQuery[int | None] = None) -> YearlyRecord:
        return await LiaisonService(db_session, tenant_scope).yearly_record(username, report_year(year))


class LiaisonFeedController(Controller):
    """What anyone may subscribe to without signing in: when deputies receive residents, and where."""

    path = "/api/v1/tenants/{slug:str}/public/liaison"
    tags = ["人大代表联络站 Liaison station"]
    dependencies = {"tenant": Provide(provide_feed_tenant)}
    opt = {"exclude_from_auth": True}

    @get("/receptions.ics", media_type="text/calendar", summary="全部联络站的代表接待日（iCalendar，无需登录）")
    async def receptions_ics(self, db_session: DbSession, tenant: NamedDependency[Tenant]) -> Response[bytes]:
        return ics_response(await reception_calendar(db_session, tenant.name), f"{tenant.slug}-receptions.ics")

    @get("/stations/{station_id:uuid}/receptions.ics", media_type="text/calendar",
         summary="一个联络站的代表接待日（iCalendar，无需登录）")
    async def station_receptions_ics(self, db_session: DbSession, tenant: NamedDependency[Tenant],
                                     station_id: FromPath[uuid.UUID]) -> Response[bytes]:
        body = await reception_calendar(db_session, tenant.name, station_id)
        return ics_response(body, f"{tenant.slug}-station-{station_id}-receptions.ics")
