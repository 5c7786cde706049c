"""Rules of the liaison station: receptions that file concerns, duty lists that follow the core's topics."""

from __future__ import annotations

import contextlib
import datetime
import re
import statistics
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import User
from core.accounts.services import PHONE_RE, display_names, mask_phone, users_seen_from
from core.concerns.models import Concern
from core.concerns.schemas import ConcernCreate
from core.concerns.services import ConcernService, category_names, clean_text
from core.errors import Forbidden, InvalidInput, NotFound, Problems
from core.events import WorkflowEvent, append_event
from core.i18n import Label, phrase
from core.inputs import Input, cap, not_one_of
from core.tenancy.models import Tenant, live_communities_below
from core.tenancy.scope import TenantScope
from core.topics.calendar import CalendarEntry, build_calendar
from plugins.liaison_station.models import DUTY_STATES, STATION_KINDS, DutyItem, Reception, Station
from plugins.liaison_station.notifications import DUTY_ITEM_EVENT

# Where a duty-list item stands, read off the state of the core topic it fed.
TOPIC_TO_DUTY = {
    "drafted": "researching", "researching": "researching", "scheduled": "in_consultation",
    "deliberated": "in_consultation", "published": "referred", "executing": "supervising", "completed": "closed",
    "withdrawn": "received",
}
CONCERN_TO_DUTY = {"resolved": "closed", "rejected": "closed", "taken_over": "referred"}
NOTE_KINDS = {"research": "调研", "meeting": "协商会", "referral": "转交部门", "result": "办理结果",
              "collected_opinions": "收集意见", "coordinated_departments": "协调部门", "supervised_works": "监督施工",
              "other": "其他"}
# An item the deputy took on alone (no concern, so no core topic to follow) moves on with what they record.
NOTE_TO_DUTY = {"research": "researching", "meeting": "in_consultation", "referral": "referred",
                "coordinated_departments": "referred", "supervised_works": "supervising", "result": "closed"}
# Where each request received goes: the deputy's duty list and a concern (the API's default, which the item then
# follows), the deputy's duty list alone, or a concern for the community's staff alone.
ROUTES = {"both": "列入履职清单并登记为诉求", "duty_list": "列入我的履职清单", "concern": "转交社区办理"}
RECEPTION_EVENT = "liaison.reception"
NOTE_EVENT = "liaison.duty_note"
FEEDBACK_EVENT = "liaison.duty_feedback"
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SlotIn(Input):
    deputy: Annotated[str, cap(64)]
    weekday: int
    start: Annotated[str, cap(5)]
    end: Annotated[str, cap(5)]


class StationIn(Input):
    name: Annotated[str, cap(100)]
    kind: Annotated[str, cap(20)]
    place: Annotated[str, cap(200)] = ""
    schedule: list[SlotIn] = msgspec.field(default_factory=list)


class StationOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    kind_name: str
    place: str
    schedule: list[dict[str, Any]]


class RequestIn(Input):
    title: Annotated[str, cap(120)]
    description: str
    category: Annotated[str, cap(40)] = "other"
    resident_name: Annotated[str, cap(50)] | None = None
    resident_phone: Annotated[str, cap(20)] | None = None
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None
    route: Annotated[str, cap(20)] = "both"
    community: uuid.UUID | None = None  # where a concern is filed: the station's community, or one below its tenant


class ReceptionIn(Input):
    station: uuid.UUID
    held_at: datetime.datetime
    residents_received: int
    requests: list[RequestIn]
    deputy: Annotated[str, cap(64)] | None = None
    notes: str = ""


class DutyItemOut(msgspec.Struct):
    id: uuid.UUID
    deputy: str
    concern: uuid.UUID | None
    reference: str
    title: str
    topic: uuid.UUID | None
    state: str
    state_name: str
    notes: list[dict[str, str]]
    feedback_score: int | None
    feedback_text: str | None
    received_at: datetime.datetime
    closed_at: datetime.datetime | None
    community: str = ""  # the slug of the community the item belongs to
    community_name: str = ""
    deputy_name: str = ""
    description: str = ""
    visitor: str | None = None
    visitor_phone: str | None = None  # masked: 138****1234


class FiledConcern(msgspec.Struct):
    """A request handed to a community's staff as a concern."""

    id: uuid.UUID
    reference: str
    title: str
    community: str
    community_name: str


class ReceptionOut(msgspec.Struct):
    id: uuid.UUID
    station: uuid.UUID
    deputy: str
    held_at: datetime.datetime
    residents_received: int
    items: list[DutyItemOut]
    concerns: list[FiledConcern] = msgspec.field(default_factory=list)


class PastReception(msgspec.Struct):
    id: uuid.UUID
    held_at: datetime.datetime
    station: str
    place: str
    deputy: str
    residents_received: int
    items: int
    concerns: int


class TimelineEntry(msgspec.Struct):
    """One event of a duty-list item, as its page shows it."""

    seq: int
    at: datetime.datetime
    action: str
    actor: str
    from_state: str | None
    to_state: str | None
    kind: str | None
    text: str
    score: int | None


class NoteIn(Input):
    kind: Annotated[str, cap(40)]
    text: str


class FeedbackIn(Input):
    score: int
    text: str = ""


class YearlyRecord(msgspec.Struct):
    """What a deputy reports to the voters: what came in, what was closed, how fast, how it was judged."""

    deputy: str
    year: int
    received: int
    closed: int
    median_days_to_close: float | None
    feedback_count: int
    average_feedback: float | None


class LiaisonService:
    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    @property
    def is_staff(self) -> bool:
        return self.scope.can("liaison.manage")

    async def _user(self, username: str, field: str) -> User:
        return (await users_seen_from(self.session, self.scope.tenant, [username], field,
                                      public_role="deputy"))[username]

    async def create_station(self, data: StationIn) -> Station:
        name = clean_text(data.name, "name", Label("联络站名称"), 100)
        if data.kind not in STATION_KINDS:
            raise not_one_of("kind", STATION_KINDS)
        schedule = []
        for slot in data.schedule:
            await self._user(slot.deputy, "schedule")
            if not 0 <= slot.weekday <= 6 or not TIME_RE.fullmatch(slot.start) or not TIME_RE.fullmatch(slot.end) \
                    or slot.end <= slot.start:
                raise InvalidInput("接待安排须为 weekday 0–6（周一为 0）与 HH:MM 的起止时间", field="schedule")
            schedule.append({"deputy": slot.deputy, "weekday": slot.weekday, "start": slot.start, "end": slot.end})
        station = Station(name=name, kind=data.kind, place=data.place.strip()[:200], schedule=schedule)
        self.session.add(station)
        await self.session.flush()
        return station

    async def stations(self) -> list[Station]:
        return list((await self.session.scalars(select(Station).order_by(Station.name))).all())

    async def communities(self) -> list[Tenant]:
        """Where a request received here may be filed: this community, or from a street or district each
        community below it."""
        return list((await self.session.scalars(
            select(Tenant).where(live_communities_below(self.scope.tenant)).order_by(Tenant.name))).all())

    async def _checked_requests(self, data: ReceptionIn) -> dict[int, Tenant]:
        """Every bad field of every request at once, before anything is written: each by its place in the list
        (`requests.1.title`); the community each concern is filed in."""
        problems, where = Problems(), {}
        if not data.requests:
            problems.add(InvalidInput("至少记录一条群众诉求", field="requests"))
        if data.residents_received < 1:
            problems.add(InvalidInput("接待人数至少为 1", field="residents_received"))
        communities = {c.id: c for c in await self.communities()}
        categories = await category_names(self.session)
        for i, request in enumerate(data.requests):
            field = f"requests.{i}."
            problems.take(clean_text, request.title, field + "title", Label("标题"), 120)
            problems.take(clean_text, request.description, field + "description", Label("描述"), 5000)
            problems.take(clean_text, request.resident_name, field + "resident_name", Label("居民姓名"), 50,
                          required=False)
            if request.resident_phone and not PHONE_RE.fullmatch(request.resident_phone):
                problems.add(InvalidInput("居民手机号须为 11 位中国大陆手机号", field=field + "resident_phone"))
            if request.category not in categories:
                problems.add(not_one_of(field + "category", categories))
            if request.route not in ROUTES:
                problems.add(not_one_of(field + "route", ROUTES))
            elif request.route != "duty_list":
                chosen = request.community or (self.scope.tenant.id if len(communities) == 1 else None)
                if chosen not in communities:
                    problems.add(InvalidInput("请选择诉求所属的社区", field=field + "community"))
                else:
                    where[i] = communities[chosen]
        problems.raise_any()
        return where

    async def _file(self, request: RequestIn, community: Tenant, photos: Any) -> Concern:
        """File the request as a concern in its community, through the core's filing (time limits, the staff's
        inbox); a community below is acted in as the scope allows (a role here applies below)."""
        data = ConcernCreate(
            title=request.title, description=request.description, category=request.category,
            channel="liaison_station", compound=request.compound, building=request.building,
            resident_name=request.resident_name or "联络站接待群众", resident_phone=request.resident_phone or None)
        if community.id == self.scope.tenant.id:
            return await ConcernService(self.session, self.scope, photos).file(data)
        async with self.scope.acting_in(community) as there:
            return await ConcernService(self.session, there, photos).file(data)

    async def record_reception(self, data: ReceptionIn,
                               photos: Any = None) -> tuple[Reception, list[DutyItem], list[FiledConcern]]:
        station = await self.session.scalar(select(Station).where(Station.id == data.station))
        if station is None:
            raise InvalidInput("本社区没有这个联络站", field="station")
        if data.deputy and data.deputy != await self.username(self.scope.user_id):
            if not self.is_staff:
                raise Forbidden("代表只能记录自己的接待")
            deputy = await self._user(data.deputy, "deputy")
        else:
            deputy = await self._me()
        where = await self._checked_requests(data)
        reception = Reception(station_id=station.id, deputy_id=deputy.id, held_at=data.held_at,
                              residents_received=data.residents_received, notes=data.notes.strip()[:5000])
        self.session.add(reception)
        await self.session.flush()
        items, filed = [], []
        for i, request in enumerate(data.requests):
            concern = await self._file(request, where[i], photos) if i in where else None
            if concern is not None and request.route == "concern":
                filed.append(FiledConcern(id=concern.id, reference=concern.reference, title=concern.title,
                                          community=where[i].slug, community_name=where[i].name))
                continue
            if concern is not None:  # the item follows its concern, which holds what was asked and by whom
                item = DutyItem(deputy_id=deputy.id, reception_id=reception.id, state="received", notes=[],
                                concern_id=concern.id)
            else:  # the deputy's alone: the item keeps what was asked, and by whom
                item = DutyItem(deputy_id=deputy.id, reception_id=reception.id, state="received", notes=[],
                                title=request.title.strip(), description=request.description.strip(),
                                visitor_name=(request.resident_name or "").strip() or None,
                                visitor_phone=request.resident_phone or None)
            self.session.add(item)
            items.append(item)
        await self.session.flush()
        for item in items:  # one event each: the deputy hears of each new item on their list
            await append_event(self.session, self.scope.ctx, subject_kind="duty_item", subject_id=item.id,
                               action=DUTY_ITEM_EVENT, from_state=None, to_state=item.state,
                               actor_id=self.scope.user_id, payload={"reception": str(reception.id)})
        await append_event(self.session, self.scope.ctx, subject_kind="reception", subject_id=reception.id,
                           action=RECEPTION_EVENT, from_state=None, to_state="recorded", actor_id=self.scope.user_id,
                           payload={"station": str(station.id), "items": [str(i.id) for i in items],
                                    "concerns": [str(c.id) for c in filed]})
        return reception, items, filed

    async def _me(self) -> User:
        me = await self.session.get(User, self.scope.user_id)
        assert me is not None  # the scope found them active
        return me

    async def username(self, user_id: uuid.UUID) -> str:
        return await self.session.scalar(select(User.username).where(User.id == user_id)) or ""

    def _visible(self, statement):
        return statement if self.is_staff else statement.where(DutyItem.deputy_id == self.scope.user_id)

    async def _duty_items(self, deputy: str | None, state: str | None):
        """The duty items this person may read, of `deputy` (a username) and in `state` when given."""
        statement = self._visible(select(DutyItem))
        if deputy:
            statement = statement.where(DutyItem.deputy_id == (await self._user(deputy, "deputy")).id)
        if state:
            if state not in DUTY_STATES:
                raise not_one_of("state", DUTY_STATES)
            statement = statement.where(DutyItem.state == state)
        return statement

    async def duty_list(self, deputy: str | None, state: str | None) -> list[DutyItem]:
        statement = await self._duty_items(deputy, state)
        return list((await self.session.scalars(statement.order_by(DutyItem.created_at))).all())

    @property
    def from_above(self) -> bool:
        """A street or district reads the duty lists of every community below it (never writes there)."""
        return self.scope.tenant.kind != "community"

    @contextlib.asynccontextmanager
    async def below(self) -> AsyncIterator[None]:
        """Reads inside widen to the communities below a street or district; a community reads its own."""
        if not self.from_above:
            yield
            return
        async with self.scope.subtree():
            yield

    async def merged_duty_list(self, deputy: str | None, state: str | None) -> list[DutyItemOut]:
        """The duty list, shaped: a community's own, or from a street or district every community's below it."""
        async with self.below():
            return await self.shape(await self.duty_list(deputy, state))

    async def item(self, item_id: uuid.UUID) -> DutyItem:
        item = await self.session.scalar(self._visible(select(DutyItem).where(DutyItem.id == item_id)))
        if item is None:
            raise NotFound("没有这条履职清单事项")
        return item

    async def add_note(self, item_id: uuid.UUID, data: NoteIn) -> DutyItem:
        """Record what the deputy did on an item (research, a meeting, a referral, the result …): one event in
        its timeline; an item of the deputy's own moves on with it (one with a concern follows the core)."""
        item = await self.item(item_id)
        if data.kind not in NOTE_KINDS:
            raise not_one_of("kind", NOTE_KINDS)
        text = clean_text(data.text, "text", Label("履职记录"), 2000)
        before = item.state
        item.notes = [*item.notes, {"kind": data.kind, "text": text, "at": clock.now().isoformat()}]
        if item.concern_id is None and data.kind in NOTE_TO_DUTY:
            item.state = NOTE_TO_DUTY[data.kind]
            item.closed_at = (item.closed_at or clock.now()) if item.state == "closed" else None
        await self.session.flush()
        await append_event(self.session, self.scope.ctx, subject_kind="duty_item", subject_id=item.id,
                           action=NOTE_EVENT, from_state=before, to_state=item.state, actor_id=self.scope.user_id,
                           payload={"kind": data.kind, "text": text})
        return item

    async def feedback(self, item_id: uuid.UUID, data: FeedbackIn) -> DutyItem:
        item = await self.item(item_id)
        if not 1 <= data.score <= 5:
            raise InvalidInput("群众评价须为 1–5 分", field="score")
        item.feedback_score, item.feedback_text = data.score, data.text.strip()[:2000]
        await self.session.flush()
        await append_event(self.session, self.scope.ctx, subject_kind="duty_item", subject_id=item.id,
                           action=FEEDBACK_EVENT, from_state=item.state, to_state=item.state,
                           actor_id=self.scope.user_id, payload={"score": data.score, "text": item.feedback_text})
        return item

    async def timeline(self, item: DutyItem) -> list[TimelineEntry]:
        """The item's events, oldest first, each with who acted (by their display name)."""
        events = (await self.session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.subject_kind == "duty_item", WorkflowEvent.subject_id == item.id)
            .order_by(WorkflowEvent.seq))).all()
        names = await display_names(self.session, (e.actor_id for e in events))
        return [TimelineEntry(seq=e.seq, at=e.at, action=e.action, actor=names.get(e.actor_id, "") if e.actor_id else "",
                              from_state=e.from_state, to_state=e.to_state, kind=(e.payload or {}).get("kind"),
                              text=str((e.payload or {}).get("text") or ""), score=(e.payload or {}).get("score"))
                for e in events]

    async def duty_page(self, deputy: str | None, state: str | None, limit: int,
                        offset: int) -> tuple[list[DutyItemOut], int]:
        """One page of the duty list (newest first), and how many items it has: a community's own, or from a
        street or district every community's below it."""
        async with self.below():
            statement = await self._duty_items(deputy, state)
            total = await self.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
            items = (await self.session.scalars(statement.order_by(DutyItem.created_at.desc(), DutyItem.id)
                                                .limit(limit).offset(offset))).all()
            return await self.shape(list(items)), total

    async def past_receptions(self, limit: int = 20) -> list[PastReception]:
        """The receptions held (the deputy's own; staff see every deputy's), newest first, with their station."""
        async with self.below():
            statement = select(Reception).order_by(Reception.held_at.desc()).limit(limit)
            if not self.is_staff:
                statement = statement.where(Reception.deputy_id == self.scope.user_id)
            receptions = (await self.session.scalars(statement)).all()
            if not receptions:
                return []
            ids = [r.id for r in receptions]
            stations = {s.id: s for s in (await self.session.scalars(
                select(Station).where(Station.id.in_({r.station_id for r in receptions})))).all()}
            counts = dict((await self.session.execute(select(DutyItem.reception_id, func.count()).where(
                DutyItem.reception_id.in_(ids)).group_by(DutyItem.reception_id))).all())
            recorded = {e.subject_id: e.payload for e in (await self.session.scalars(select(WorkflowEvent).where(
                WorkflowEvent.subject_kind == "reception", WorkflowEvent.subject_id.in_(ids)))).all()}
            names = await display_names(self.session, (r.deputy_id for r in receptions))
        return [PastReception(
            id=r.id, held_at=r.held_at, station=stations[r.station_id].name if r.station_id in stations else "",
            place=stations[r.station_id].place if r.station_id in stations else "", deputy=names.get(r.deputy_id, ""),
            residents_received=r.residents_received, items=counts.get(r.id, 0),
            concerns=len((recorded.get(r.id) or {}).get("concerns", []))) for r in receptions]

    async def shape(self, items: list[DutyItem]) -> list[DutyItemOut]:
        """Items with their concern, deputy and community, in a fixed number of queries; a visitor's phone
        masked."""
        concern_ids = [i.concern_id for i in items if i.concern_id is not None]
        concerns = {c.id: c for c in (await self.session.scalars(
            select(Concern).where(Concern.id.in_(concern_ids))))} if concern_ids else {}
        rows = (await self.session.execute(select(User.id, User.username, User.display_name).where(
            User.id.in_({i.deputy_id for i in items})))).all() if items else []
        usernames = {user_id: username for user_id, username, _name in rows}
        names = {user_id: name or username for user_id, username, name in rows}
        tenants = {t.id: t for t in (await self.session.scalars(
            select(Tenant).where(Tenant.id.in_({i.tenant_id for i in items}))))} if items else {}
        shaped = []
        for i in items:
            concern = concerns.get(i.concern_id) if i.concern_id is not None else None
            tenant = tenants.get(i.tenant_id)
            shaped.append(DutyItemOut(
                id=i.id, deputy=usernames.get(i.deputy_id, ""), concern=i.concern_id,
                reference=concern.reference if concern else "", title=concern.title if concern else i.title or "",
                topic=i.topic_id, state=i.state, state_name=DUTY_STATES[i.state], notes=i.notes,
                feedback_score=i.feedback_score, feedback_text=i.feedback_text, received_at=i.created_at,
                closed_at=i.closed_at, community=tenant.slug if tenant else "",
                community_name=tenant.name if tenant else "", deputy_name=names.get(i.deputy_id, ""),
                description=concern.description if concern else i.description or "",
                visitor=concern.resident_name if concern else i.visitor_name,
                visitor_phone=mask_phone(concern.resident_phone if concern else i.visitor_phone)))
        return shaped

    async def yearly_record(self, deputy: str, year: int) -> YearlyRecord:
        user = await self._user(deputy, "deputy")
        if not self.is_staff and user.id != self.scope.user_id:
            raise NotFound("没有这位代表的履职记录")
        start, end = clock.day_range(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        items = (await self.session.scalars(select(DutyItem).where(
            DutyItem.deputy_id == user.id, DutyItem.created_at >= start, DutyItem.created_at < end))).all()
        spans = [i.closed_at - i.created_at for i in items if i.closed_at is not None]
        days = [span.total_seconds() / 86400 for span in spans]
        scores = [i.feedback_score for i in items if i.feedback_score is not None]
        return YearlyRecord(
            deputy=deputy, year=year, received=len(items), closed=len(spans),
            median_days_to_close=round(statistics.median(days), 1) if days else None,
            feedback_count=len(scores), average_feedback=round(sum(scores) / len(scores), 2) if scores else None)


async def follow_event(session: AsyncSession, event: WorkflowEvent) -> None:
    """Keep duty-list items in step with the core: the concern they filed, and the topic it joined."""
    if event.subject_kind == "concern":
        items = (await session.scalars(select(DutyItem).where(DutyItem.concern_id == event.subject_id))).all()
        for item in items:
            if event.action == "concern.topic":
                item.topic_id, item.state = event.topic_id, TOPIC_TO_DUTY["drafted"]
            elif event.action == "concern.released":
                item.topic_id, item.state = None, "received"
            elif event.to_state in CONCERN_TO_DUTY:
                item.state = CONCERN_TO_DUTY[event.to_state]
            item.closed_at = clock.now() if item.state == "closed" else None
    elif event.subject_kind == "topic" and event.to_state in TOPIC_TO_DUTY:
        items = (await session.scalars(select(DutyItem).where(DutyItem.topic_id == event.subject_id))).all()
        for item in items:
            item.state = TOPIC_TO_DUTY[event.to_state]
            item.closed_at = (item.closed_at or clock.now()) if item.state == "closed" else None
    else:
        return
    await session.flush()


async def next_receptions(session: AsyncSession, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """The next reception at each station, from its weekly schedule (Beijing time), soonest first; each names
    its station and place, never who came."""
    local = (now or clock.now()).astimezone(clock.LOCAL_TZ)
    stations = (await session.scalars(select(Station))).all()
    deputies = {slot["deputy"] for s in stations for slot in s.schedule}
    names = dict((await session.execute(select(User.username, User.display_name)
                                        .where(User.username.in_(deputies)))).all()) if deputies else {}
    upcoming = []
    for station in stations:
        for slot in station.schedule:
            hour, minute = (int(x) for x in slot["start"].split(":"))
            day = local.date() + datetime.timedelta(days=(slot["weekday"] - local.weekday()) % 7)
            at = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clock.LOCAL_TZ)
            if at <= local:
                at += datetime.timedelta(days=7)
            upcoming.append({**phrase(Label("{deputy} 在{station}接待群众"),
                                      deputy=names.get(slot["deputy"], slot["deputy"]), station=station.name),
                             "at": at.isoformat(), "station": station.name, "place": station.place,
                             "station_id": str(station.id), "until": slot["end"]})
    return sorted(upcoming, key=lambda item: item["at"])


async def reception_calendar(session: AsyncSession, tenant_name: str, station_id: uuid.UUID | None = None) -> bytes:
    """The stations' weekly reception hours as repeating iCalendar events (RRULE:FREQ=WEEKLY), from the week
    each station was set up; the deputy's name and the place only, never what residents raised."""
    statement = select(Station).order_by(Station.name)
    if station_id is not None:
        statement = statement.where(Station.id == station_id)
    stations = (await session.scalars(statement)).all()
    if station_id is not None and not stations:
        raise NotFound("没有这个联络站")
    deputies = {slot["deputy"] for s in stations for slot in s.schedule}
    names = dict((await session.execute(select(User.username, User.display_name)
                                        .where(User.username.in_(deputies)))).all()) if deputies else {}
    entries = []
    for station in stations:
        opened = station.created_at.astimezone(clock.LOCAL_TZ).date()
        for slot in station.schedule:
            day = opened + datetime.timedelta(days=(slot["weekday"] - opened.weekday()) % 7)
            start, end = (datetime.datetime.combine(day, datetime.time.fromisoformat(slot[edge]), tzinfo=clock.LOCAL_TZ)
                          for edge in ("start", "end"))
            deputy, weekday, at = slot["deputy"], slot["weekday"], slot["start"]
            entries.append(CalendarEntry(
                # The same slot keeps its UID feed after feed; a changed slot is a new event.
                uid=f"{uuid.uuid5(station.id, f'{deputy}/{weekday}/{at}')}@yishi",
                start=start, end=end, weekly=True, stamp=station.updated_at, status="CONFIRMED",
                summary=f"{names.get(deputy, deputy)} 在{station.name}接待群众",
                location=station.place or station.name, description=f"人大代表{STATION_KINDS[station.kind]}接待日"))
    title = stations[0].name if station_id is not None else tenant_name
    return build_calendar(f"{title} 人大代表接待安排", entries)


async def erase_old_phones(session: AsyncSession, closed_before: datetime.datetime) -> int:
    """The visitors' phone numbers on the session tenant's duty items closed before `closed_before`, erased (the
    tenant's retention of residents' phones); how many."""
    result = await session.execute(update(DutyItem).where(
        DutyItem.closed_at.is_not(None), DutyItem.closed_at < closed_before, DutyItem.visitor_phone.is_not(None))
        .values(visitor_phone=None))
    return int(getattr(result, "rowcount", 0) or 0)
