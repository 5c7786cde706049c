"""HTTP routes of Open311 GeoReport v2 at /open311/v2/{slug}/, each in the spec's .json and .xml forms.

No sign-in: reading is open to anyone, as the spec says; filing needs the `api_key` of a client app
registered for the tenant. Every refusal answers in the spec's error format, not as problem details.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, Parameter

from core import clock
from core.errors import DomainError
from core.http import DbSession
from core.open311.schemas import (
    Discovery,
    Error,
    Service,
    ServiceDefinition,
    ServiceRequest,
    ServiceRequestCreated,
    ServiceRequestForm,
)
from core.open311.services import Open311Error, Open311Service, RequestQuery, enter_jurisdiction
from core.open311.xml import render
from core.tenancy.models import Tenant

log = logging.getLogger("yishi.open311")
JSON = "application/json; charset=utf-8"
XML = "text/xml"  # Litestar adds "; charset=utf-8" to text/* itself
FORMATS = ("json", "xml")
ERRORS = {
    400: ResponseSpec(list[Error], description="缺少或无效的参数（及一般服务错误）：`[{\"code\": 400, \"description\": …}]`"),
    403: ResponseSpec(list[Error], description="未提供或无效的 api_key"),
    404: ResponseSpec(list[Error], description="没有这个租户（jurisdiction）、服务类型或诉求编号"),
}
Jurisdiction = NamedDependency[Tenant]
JurisdictionId = Annotated[str | None, Parameter(
    description="可不填：路径中的租户就是辖区（本端点只服务一个辖区，按规范忽略此参数）")]
ServiceRequestBody = Annotated[ServiceRequestForm, Body(
    media_type=RequestEncodingType.URL_ENCODED, description="application/x-www-form-urlencoded，字段如规范所列")]


def _wants_xml(request: Request) -> bool:
    return request.url.path.endswith(".xml")


def answer(request: Request, root: str, data: Any, status: int = 200) -> Response:
    """`data` as the spec's JSON, or as its XML under `root` when the path ends in .xml."""
    if _wants_xml(request):
        return Response(render(root, data), media_type=XML, status_code=status)
    return Response(msgspec.json.encode(data), media_type=JSON, status_code=status)


def _stem(resource: str) -> str:
    """`noise.json` → `noise`; the format decides the answer's form."""
    stem, dot, ext = resource.rpartition(".")
    if not dot or not stem or ext not in FORMATS:
        raise Open311Error(404, f"{resource} was not found: add .json or .xml（请以 .json 或 .xml 结尾）")
    return stem


def _refusal(exc: Exception) -> Open311Error:
    if isinstance(exc, Open311Error):
        return exc
    if isinstance(exc, DomainError):
        return Open311Error.from_domain(exc)
    if isinstance(exc, ValidationException):
        problems = [f"{item.get('key')}: {item.get('message')}" for item in exc.extra
                    if isinstance(item, dict)] if isinstance(exc.extra, list) else []
        return Open311Error(400, "invalid request（请求无效）" + (": " + "; ".join(problems) if problems else ""))
    if isinstance(exc, HTTPException) and exc.status_code in (403, 404):
        return Open311Error(exc.status_code, exc.detail)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return Open311Error(400, exc.detail, code=exc.status_code)
    return Open311Error(400, "General service error: the request could not be processed; please try again later"
                             " or notify the jurisdiction（一般服务错误，请稍后重试或告知辖区）")


def open311_error(request: Request, exc: Exception) -> Response:
    """Every refusal of these routes in the spec's format: 404, 403, or 400 for anything else."""
    refusal = _refusal(exc)
    if refusal is not exc and not isinstance(exc, (DomainError, HTTPException)):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
    return answer(request, "errors", refusal.errors, refusal.status)


async def provide_jurisdiction(db_session: DbSession, slug: FromPath[str]) -> Tenant:
    return await enter_jurisdiction(db_session, slug)


class Open311Controller(Controller):
    """GeoReport v2 (http://wiki.open311.org/GeoReport_v2): categories as services, concerns as requests."""

    path = "/open311/v2/{slug:str}"
    tags = ["Open311 GeoReport v2"]
    opt = {"exclude_from_auth": True}
    dependencies = {"jurisdiction": Provide(provide_jurisdiction)}
    exception_handlers = {Exception: open311_error, HTTPException: open311_error, ValidationException: open311_error,
                          DomainError: open311_error}

    @get(["/discovery.json", "/discovery.xml"], summary="服务发现（Service Discovery）：规范、端点、格式、如何申请 api_key",
         responses=ERRORS)
    async def discovery(self, request: Request, db_session: DbSession, jurisdiction: Jurisdiction) -> Response[Discovery]:
        url = str(request.base_url).rstrip("/") + f"/open311/v2/{jurisdiction.slug}"
        return answer(request, "discovery", Open311Service(db_session, jurisdiction).discovery(url))

    @get(["/services.json", "/services.xml"], summary="服务列表：本租户的诉求分类（默认分类与本租户增加的）",
         responses=ERRORS)
    async def services(self, request: Request, db_session: DbSession, jurisdiction: Jurisdiction,
                       jurisdiction_id: JurisdictionId = None) -> Response[list[Service]]:
        return answer(request, "services", await Open311Service(db_session, jurisdiction).services())

    @get("/services/{service_file:str}", summary="服务定义：所有服务的 metadata 均为 false，attributes 为空列表",
         description="路径为 `services/{service_code}.json` 或 `.xml`，如 `services/noise.json`；未知的 service_code 答 404。",
         responses=ERRORS)
    async def service_definition(
        self, request: Request, db_session: DbSession, jurisdiction: Jurisdiction,
        service_file: Annotated[str, Parameter(description="service_code 加格式后缀，如 noise.json、noise.xml")],
        jurisdiction_id: JurisdictionId = None,
    ) -> Response[ServiceDefinition]:
        code = _stem(service_file)
        return answer(request, "service_definition", await Open311Service(db_session, jurisdiction).definition(code))

    @post(["/requests.json", "/requests.xml"], status_code=200, responses=ERRORS,
          summary="提交诉求（须 api_key；表单编码）：答 [{service_request_id, service_notice, account_id}]",
          description="application/x-www-form-urlencoded：`api_key`、`service_code`，以及位置（`lat` 与 `long`、"
                      "`address_string` 或 `address_id`）必填；`description`（4000 字以内）、`first_name`、`last_name`、"
                      "`phone`、`media_url` 可选；`email`、`device_id`、`account_id` 接受但不保存；`attribute[…]` 忽略。"
                      "诉求渠道记为 open311；居民姓名与手机号随诉求交给工作人员（手机号按角色遮蔽），Open311 的查询从不返回。")
    async def create_request(self, request: Request, db_session: DbSession, jurisdiction: Jurisdiction,
                             data: ServiceRequestBody) -> Response[list[ServiceRequestCreated]]:
        if request.content_type[0].lower() != "application/x-www-form-urlencoded":
            raise Open311Error(400, "the request body must be application/x-www-form-urlencoded"
                                    "（请以 application/x-www-form-urlencoded 表单提交）")
        service = Open311Service(db_session, jurisdiction)
        client = await service.client(data.api_key)
        created = await service.file(data, client, request.app.state.authorizer)
        return answer(request, "service_requests", [created])

    @get(["/requests.json", "/requests.xml"], responses=ERRORS,
         summary="查询诉求：默认最近 90 天、最多 1000 条，新到旧；不含居民姓名与电话",
         description="`description` 是诉求的公开摘要（工作人员改写的，或去除个人信息后的标题），从不是居民写的描述；"
                     "`address` 只到小区、楼栋，不含单元与门牌。")
    async def list_requests(
        self, request: Request, db_session: DbSession, jurisdiction: Jurisdiction,
        service_request_id: Annotated[str | None, Parameter(
            description="诉求编号，逗号分隔；给出时忽略其他条件")] = None,
        service_code: Annotated[str | None, Parameter(description="服务类型（分类代码），逗号分隔")] = None,
        start_date: Annotated[str | None, Parameter(
            description="最早的提交时间（W3C 格式，须带时区，如 2026-01-01T00:00:00Z）")] = None,
        end_date: Annotated[str | None, Parameter(
            description="最晚的提交时间（W3C 格式）；与 start_date 相距不能超过 90 天")] = None,
        status: Annotated[str | None, Parameter(description="open 或 closed，逗号分隔")] = None,
        jurisdiction_id: JurisdictionId = None,
    ) -> Response[list[ServiceRequest]]:
        query = RequestQuery.parse(service_request_id, service_code, start_date, end_date, status, clock.now())
        return answer(request, "service_requests", await Open311Service(db_session, jurisdiction).requests(query))

    @get("/requests/{request_file:str}", responses=ERRORS, summary="查看一条诉求（按编号）",
         description="路径为 `requests/{service_request_id}.json` 或 `.xml`，如 `requests/JSX-2026-000123.json`。")
    async def get_request(
        self, request: Request, db_session: DbSession, jurisdiction: Jurisdiction,
        request_file: Annotated[str, Parameter(description="诉求编号加格式后缀，如 JSX-2026-000123.json")],
        jurisdiction_id: JurisdictionId = None,
    ) -> Response[list[ServiceRequest]]:
        reference = _stem(request_file)
        return answer(request, "service_requests", [await Open311Service(db_session, jurisdiction).request(reference)])
