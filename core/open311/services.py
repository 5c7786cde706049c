"""Rules of Open311: categories as services, filing through ConcernService, concerns as service requests, keys.

Filing reuses `ConcernService.file`, so a concern that arrives through Open311 obeys every rule of one filed
in Yishi itself (reference, category, place, resident's phone, the `concern.filed` event); the client app
acts through a scope that may file for residents and do nothing else.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import User
from core.authz.authorizer import Authorizer, Grants
from core.concerns.models import STATE_NAMES, Concern
from core.concerns.schemas import ConcernCreate
from core.concerns.services import ConcernService, category_names, clean_text
from core.errors import Conflict, DomainError, NotFound
from core.i18n import Label
from core.open311.models import Open311Client, Open311Request
from core.open311.schemas import (
    Discovery,
    Endpoint,
    Error,
    Service,
    ServiceDefinition,
    ServiceRequest,
    ServiceRequestCreated,
    ServiceRequestForm,
)
from core.redaction import public_place, public_summary, redact
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope, enter
from core.topics.machine import STATE_NAMES as TOPIC_STATE_NAMES
from core.topics.models import ActionItem, Topic

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00Z"  # when this endpoint's behaviour last changed (service discovery)
CHANNEL = "open311"
KEY_PREFIX = "o311_"
MAX_SPAN = datetime.timedelta(days=90)  # the spec's default window, and the widest a query may ask for
MAX_RESULTS = 1000  # the spec's cap on one GET requests answer
MAX_DESCRIPTION = 4000  # the spec's limit on a description
# A concern is closed once nothing more will happen to it here; in a topic, once the topic is completed.
CLOSED_STATES = ("rejected", "resolved", "completed")
# The default categories as services: (description, keywords, group).
SERVICE_INFO: dict[str, tuple[str, str, str]] = {
    "property_service": ("物业服务的质量、收费、保洁与秩序维护", "物业, 物业公司, 保洁, 保安, 收费", "小区管理"),
    "environment": ("小区卫生、绿化、垃圾堆放与清运", "环境, 卫生, 垃圾, 绿化, 清运", "环境卫生"),
    "public_facilities": ("健身器材、路灯、直饮水机、球场等公共设施的损坏与增设", "设施, 路灯, 饮水机, 球场, 健身器材",
                          "公共设施"),
    "neighbour_dispute": ("邻里之间的矛盾纠纷", "纠纷, 邻里, 调解", "邻里关系"),
    "noise": ("施工、商铺、广场舞等噪声扰民", "噪声, 噪音, 扰民", "环境卫生"),
    "drainage": ("下水道、化粪池、雨水管堵塞或渗漏", "管道, 堵塞, 下水道, 渗漏, 化粪池", "公共设施"),
    "parking_roads": ("停车难、道路破损、通行受阻", "停车, 道路, 通行, 车位", "交通出行"),
    "heating": ("供暖温度不达标、暖气漏水", "供暖, 暖气, 取暖", "公共设施"),
    "ev_charging": ("电动车充电桩不足、飞线充电", "充电, 充电桩, 电动车, 飞线", "公共设施"),
    "safety": ("消防通道堵塞、危房、高空坠物等安全隐患", "安全, 消防, 隐患, 危房", "安全隐患"),
    "other": ("不属于以上类别的诉求", "其他", "其他"),
}
# Which Open311 parameter a field of ConcernService's refusals is about.
PARAMETERS = {"title": "description", "description": "description", "category": "service_code",
              "place": "address_string", "resident_name": "first_name/last_name", "resident_phone": "phone"}
CLIENT_ACTIONS = frozenset({"concern.file", "concern.file_on_behalf"})
_W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_CJK = re.compile(r"[\u3400-\u9fff]")


class Open311Error(Exception):
    """A refusal in the spec's terms: the HTTP status (404, 403 or 400) and one error per problem."""

    def __init__(self, status: int, *descriptions: str, code: int | None = None) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        # The body's code may be more specific than the HTTP status (the spec allows it): 413 under a 400.
        self.errors = [Error(code=code or status, description=d) for d in descriptions]

    @classmethod
    def from_domain(cls, exc: DomainError) -> Open311Error:
        """A refusal of the core (ConcernService, idempotency) in Open311 terms: 403 and 404 as they are, else 400."""
        status = exc.status if exc.status in (403, 404) else 400
        field = PARAMETERS.get(exc.field or "", exc.field)
        return cls(status, f"{field}: {exc.message}" if field else exc.message)


@dataclass(frozen=True, slots=True)
class ClientScope(TenantScope):
    """An Open311 client app acting in its tenant: it files concerns for residents, and may do nothing else."""

    def can(self, action: str) -> bool:
        return action in CLIENT_ACTIONS


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def w3c(moment: datetime.datetime) -> str:
    """2010-01-01T00:00:00Z: the spec's W3C datetime, in UTC."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_w3c(value: str, name: str) -> datetime.datetime:
    text = value.strip()
    # "+08:00" put in a query string unencoded arrives as " 08:00".
    text = re.sub(r" (\d{2}:\d{2})$", r"+\1", text)
    moment = None
    if _W3C_DATETIME.fullmatch(text):
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        raise Open311Error(400, f"{name} must be a W3C datetime with a time zone, e.g. 2010-01-01T00:00:00Z"
                                f"（{name} 须为带时区的 W3C 时间）")
    return moment


def _given(value: str | None) -> str | None:
    """The spec: an empty parameter is the same as one not sent."""
    value = (value or "").strip()
    return value or None


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _person(first: str | None, last: str | None) -> str | None:
    """first_name and last_name as one name: 柳 + 先生 → 柳先生 (family name first in Chinese), John Smith."""
    if not first and not last:
        return None
    if _CJK.search(f"{first or ''}{last or ''}"):
        return f"{last or ''}{first or ''}"
    return " ".join(part for part in (first, last) if part)


def _phone(value: str | None) -> str | None:
    """+86 138-1234-1234 → 13812341234; ConcernService then checks it is a mainland mobile number."""
    if not value:
        return None
    digits = re.sub(r"[\s().-]", "", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    return digits


def _title(description: str, fallback: str) -> str:
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return (first if len(first) <= 60 else first[:59] + "…") or fallback


def _coordinates(lat: str | None, long: str | None, errors: list[str]) -> tuple[float | None, float | None]:
    if lat is None and long is None:
        return None, None
    if lat is None or long is None:
        errors.append("lat and long must be sent together（lat 与 long 须同时提供）")
        return None, None
    try:
        values = float(lat), float(long)
    except ValueError:
        values = (math.nan, math.nan)
    if not (all(math.isfinite(v) for v in values) and -90 <= values[0] <= 90 and -180 <= values[1] <= 180):
        errors.append("lat and long must be WGS84 degrees: lat -90–90, long -180–180（坐标须为 WGS84 经纬度）")
        return None, None
    return values


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' filters: ids override everything else; otherwise a window of at most 90 days."""

    ids: list[str]
    service_codes: list[str]
    start: datetime.datetime | None
    end: datetime.datetime | None
    statuses: frozenset[str]

    @classmethod
    def parse(cls, service_request_id: str | None, service_code: str | None, start_date: str | None,
              end_date: str | None, status: str | None, now: datetime.datetime) -> RequestQuery:
        ids = [i.upper() for i in _list(service_request_id)]
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, f"at most {MAX_RESULTS} service_request_id at once（一次最多 {MAX_RESULTS} 个编号）")
        if ids:  # "This overrides all other arguments."
            return cls(ids, [], None, None, frozenset())
        statuses = frozenset(s.lower() for s in _list(status))
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed, comma delimited（status 须为 open 或 closed）")
        start = parse_w3c(given, "start_date") if (given := _given(start_date)) else None
        end = parse_w3c(given, "end_date") if (given := _given(end_date)) else None
        if start and end:
            if end < start:
                raise Open311Error(400, "end_date is before start_date（end_date 早于 start_date）")
            if end - start > MAX_SPAN:
                raise Open311Error(400, "start_date and end_date may not span more than 90 days（查询时段不能超过 90 天）")
        elif start:
            end = start + MAX_SPAN
        elif end:
            start = end - MAX_SPAN
        else:
            start, end = now - MAX_SPAN, now
        return cls([], _list(service_code), start, end, statuses)


class Open311Service:
    """One jurisdiction (tenant) as GeoReport v2 sees it. The session is scoped to the tenant already."""

    def __init__(self, session: AsyncSession, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant

    # --- services ---------------------------------------------------------------------------------------

    async def services(self) -> list[Service]:
        services = []
        for code, name in (await category_names(self.session)).items():
            description, keywords, group = SERVICE_INFO.get(code, (name, name, "其他"))
            services.append(Service(service_code=code, service_name=name, description=description, metadata=False,
                                    type="realtime", keywords=keywords, group=group))
        return services

    async def definition(self, code: str) -> ServiceDefinition:
        """Every service has metadata false: the definition exists and asks for no attributes."""
        if code not in await category_names(self.session):
            raise Open311Error(404, f"service_code {code} was not found（没有服务类型 {code}）")
        return ServiceDefinition(service_code=code, attributes=[])

    # --- filing -----------------------------------------------------------------------------------------

    async def client(self, api_key: str | None) -> Open311Client:
        """The client app holding `api_key` in this tenant; a key of another tenant is simply not found here."""
        api_key = _given(api_key)
        if api_key is None:
            raise Open311Error(403, "api_key was not provided（未提供 api_key）")
        client = await self.session.scalar(select(Open311Client).where(
            Open311Client.key_hash == hash_key(api_key), Open311Client.revoked_at.is_(None)))
        if client is None:
            raise Open311Error(403, "Invalid api_key（api_key 无效、已吊销，或不是本辖区的）")
        return client

    async def file(self, form: ServiceRequestForm, client: Open311Client, authorizer: Authorizer) -> ServiceRequestCreated:
        if self.tenant.archived:
            raise Open311Error(400, f"jurisdiction {self.tenant.slug} is archived and read-only（租户已归档，只能查看）")
        code, address, address_id = _given(form.service_code), _given(form.address_string), _given(form.address_id)
        description, media_url = _given(form.description), _given(form.media_url)
        errors: list[str] = []
        if code is None:
            errors.append("service_code was not provided（未提供 service_code）")
        before = len(errors)
        lat, long = _coordinates(_given(form.lat), _given(form.long), errors)
        if lat is None and address is None and address_id is None and len(errors) == before:
            errors.append("a location was not provided: lat and long, address_string or address_id"
                          "（须提供位置：lat 与 long、address_string 或 address_id）")
        if description and len(description) > MAX_DESCRIPTION:
            errors.append(f"description is limited to {MAX_DESCRIPTION} characters（描述不能超过 {MAX_DESCRIPTION} 字）")
        if address_id and len(address_id) > 100:
            errors.append("address_id is limited to 100 characters（address_id 不能超过 100 个字符）")
        if media_url and (len(media_url) > 500 or not re.fullmatch(r"https?://\S+", media_url)):
            errors.append("media_url must be an http(s) URL of at most 500 characters（media_url 须为 http(s) 网址）")
        if errors:
            raise Open311Error(400, *errors)
        assert code is not None
        categories = await category_names(self.session)
        if code not in categories:
            raise Open311Error(404, f"service_code {code} was not found（没有服务类型 {code}）")
        if address is not None:
            place = address
        elif lat is not None:
            place = f"坐标 {lat:.6f}, {long:.6f}"
        else:
            place = f"地址编号 {address_id}"
        title = _title(description or "", categories[code])
        description = description or f"{categories[code]}（{place}）"
        scope = ClientScope(self.session, self.tenant, None, client.user_id, Grants(client.user_id, 0), authorizer)
        try:
            concern = await ConcernService(self.session, scope).file(ConcernCreate(
                title=title, description=description, category=code,
                channel=CHANNEL, place=place, resident_name=_person(_given(form.first_name), _given(form.last_name)),
                resident_phone=_phone(_given(form.phone)),
            ))
        except DomainError as exc:
            raise Open311Error.from_domain(exc) from None
        self.session.add(Open311Request(concern_id=concern.id, client_id=client.id, lat=lat, long=long,
                                        address_id=address_id, media_url=media_url))
        await self.session.flush()
        return ServiceRequestCreated(
            service_request_id=concern.reference, account_id=None,
            service_notice=f"{self.tenant.name}已收到，工作人员受理后按六步工作法办理；凭查询码 {concern.tracking_code} 可查询进度。",
        )

    # --- requests ---------------------------------------------------------------------------------------

    async def requests(self, query: RequestQuery) -> list[ServiceRequest]:
        closed = _closed()
        statement = _REQUESTS
        if query.ids:
            statement = statement.where(Concern.reference.in_(query.ids))
        else:
            assert query.start is not None and query.end is not None
            statement = statement.where(Concern.created_at >= query.start)
            # Times are shown to the second, so an end_date on a whole second includes that whole second.
            statement = statement.where(Concern.created_at < query.end + datetime.timedelta(seconds=1)
                                        if query.end.microsecond == 0 else Concern.created_at <= query.end)
            if query.service_codes:
                statement = statement.where(Concern.category.in_(query.service_codes))
            if query.statuses == {"open"}:
                statement = statement.where(not_(closed))
            elif query.statuses == {"closed"}:
                statement = statement.where(closed)
        rows = (await self.session.execute(
            statement.order_by(Concern.created_at.desc(), Concern.id).limit(MAX_RESULTS))).all()
        return await self._shape(rows)

    async def request(self, reference: str) -> ServiceRequest:
        rows = (await self.session.execute(_REQUESTS.where(Concern.reference == reference.upper()))).all()
        if not rows:
            raise Open311Error(404, f"service_request_id {reference} was not found（没有这个诉求编号）")
        return (await self._shape(rows))[0]

    async def _shape(self, rows: Sequence[Any]) -> list[ServiceRequest]:
        """Concerns as service requests, with a fixed number of queries whatever their number."""
        if not rows:
            return []
        concern_ids = [row[0].id for row in rows]
        topic_ids = {row[0].topic_id for row in rows if row[0].topic_id}
        agencies: dict[uuid.UUID, list[str]] = {}
        if topic_ids:
            for topic_id, owner_org in await self.session.execute(
                    select(ActionItem.topic_id, ActionItem.owner_org)
                    .where(ActionItem.topic_id.in_(topic_ids), ActionItem.owner_org.is_not(None))
                    .order_by(ActionItem.due_date, ActionItem.created_at)):
                if owner_org is not None and owner_org not in agencies.setdefault(topic_id, []):
                    agencies[topic_id].append(owner_org)
        extras = {r.concern_id: r for r in (await self.session.scalars(
            select(Open311Request).where(Open311Request.concern_id.in_(concern_ids)))).all()}
        categories = await category_names(self.session)
        shaped = []
        for concern, topic_state, topic_completed_at, topic_updated_at in rows:
            known = (concern.resident_name, concern.resident_phone)
            closed = concern.status in CLOSED_STATES or (concern.status == "in_topic" and topic_state == "completed")
            if closed:
                updated = concern.closed_at or topic_completed_at or concern.updated_at
            else:
                updated = max(concern.updated_at, topic_updated_at or concern.updated_at)
            extra = extras.get(concern.id)
            agency = "、".join(agencies.get(concern.topic_id, [])) if concern.topic_id else ""
            shaped.append(ServiceRequest(
                service_request_id=concern.reference, status="closed" if closed else "open",
                status_notes=redact(_status_notes(concern, topic_state), known),
                service_name=categories.get(concern.category, concern.category), service_code=concern.category,
                description=public_summary(concern), agency_responsible=agency or None, service_notice=None,
                requested_datetime=w3c(concern.created_at), updated_datetime=w3c(updated), expected_datetime=None,
                address=public_place(concern.place, known), address_id=extra.address_id if extra else None,
                zipcode=None, lat=extra.lat if extra else None, long=extra.long if extra else None,
                media_url=extra.media_url if extra else None,
            ))
        return shaped

    # --- service discovery ------------------------------------------------------------------------------

    def discovery(self, url: str) -> Discovery:
        return Discovery(
            changeset=CHANGESET, contact=f"{self.tenant.name}（Yishi 议事）",
            key_service=f"api_key 由平台运维为本辖区登记应用后发放：yishi open311 keys create {self.tenant.slug} APP_NAME",
            endpoints=[Endpoint(specification=SPECIFICATION, url=url, changeset=CHANGESET, type="production",
                                formats=["text/xml", "application/json"])],
        )


def _closed() -> Any:
    # COALESCE: a concern in no topic has no topic state, and NULL must not make "open" unknown.
    return or_(Concern.status.in_(CLOSED_STATES),
               and_(Concern.status == "in_topic", func.coalesce(Topic.state, "") == "completed"))


_REQUESTS = select(Concern, Topic.state, Topic.completed_at, Topic.updated_at).outerjoin(
    Topic, and_(Topic.tenant_id == Concern.tenant_id, Topic.id == Concern.topic_id))


def _status_notes(concern: Concern, topic_state: str | None) -> str:
    """The concern's state in words, with the staff's triage note or reason where there is one."""
    if concern.status == "in_topic" and topic_state:
        notes = f"{STATE_NAMES['in_topic']}：{TOPIC_STATE_NAMES[topic_state]}"
    else:
        notes = STATE_NAMES[concern.status]
    detail = concern.triage_note if concern.status == "resolved" else (
        concern.triage_reason if concern.status in ("rejected", "escalated") else None)
    return f"{notes}。{detail}" if detail else notes


async def enter_jurisdiction(session: AsyncSession, slug: str) -> Tenant:
    """The tenant at `/open311/v2/{slug}`, made the session's tenant (no sign-in: Open311 has its own keys)."""
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise Open311Error(404, f"jurisdiction {slug} was not found（没有租户 {slug}）")
    await enter(session, tenant)
    return tenant


# --- client apps and their keys (operator commands) ------------------------------------------------------


async def _enter(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound("没有租户 {slug}", slug=slug)
    await enter(session, tenant)
    return tenant


async def create_client(session: AsyncSession, slug: str, name: str) -> tuple[Open311Client, str]:
    """Register a client app for a tenant; the key is returned once and only its hash is kept."""
    tenant = await _enter(session, slug)
    name = clean_text(name, "name", Label("应用名称"), 100) or ""
    if await session.scalar(select(Open311Client.id).where(Open311Client.name == name,
                                                           Open311Client.revoked_at.is_(None))):
        raise Conflict("{slug} 已有名为「{name}」的有效应用；如需换发密钥，请先吊销它", field="name", slug=slug, name=name)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    # The app's service account: it names the app as the filer of its concerns, and cannot sign in.
    account = User(username=f"open311-{uuid.uuid4().hex[:16]}", display_name=f"Open311 应用：{name}"[:100],
                   password_hash="!", active=False)  # noqa: S106 (no hash matches "!": it cannot sign in)
    session.add(account)
    await session.flush()
    client = Open311Client(tenant_id=tenant.id, name=name, key_hash=hash_key(key), user_id=account.id)
    session.add(client)
    await session.flush()
    return client, key


async def list_clients(session: AsyncSession, slug: str) -> list[Open311Client]:
    await _enter(session, slug)
    return list((await session.scalars(select(Open311Client).order_by(Open311Client.created_at))).all())


async def revoke_client(session: AsyncSession, slug: str, name_or_id: str) -> Open311Client:
    """Revoke the tenant's active app of that name (or id); its key stops working at once."""
    await _enter(session, slug)
    try:
        match = Open311Client.id == uuid.UUID(name_or_id)
    except ValueError:
        match = Open311Client.name == name_or_id.strip()
    client = await session.scalar(select(Open311Client).where(match, Open311Client.revoked_at.is_(None)))
    if client is None:
        raise NotFound("{slug} 没有有效的 Open311 应用「{app}」", slug=slug, app=name_or_id)
    client.revoked_at = clock.now()
    await session.flush()
    return client
