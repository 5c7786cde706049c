"""Rules of the red pavilion: monthly series planned ahead (each offered the waiting concerns and the month's hot
topics, 每月一题), on-demand sessions, Party members' participation."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import RoleAssignment, User
from core.concerns.models import Concern
from core.concerns.services import clean_text
from core.errors import Conflict, InvalidInput, NotFound
from core.events import WorkflowEvent
from core.i18n import Label, phrase
from core.inputs import Input, cap, label
from core.related.hot import hot_topics
from core.tenancy.scope import TenantScope
from core.topics.calendar import CalendarEntry, build_calendar
from core.topics.models import Topic
from plugins.red_pavilion.models import SESSION_KINDS, PavilionSession, Venue

TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
HOT_TOPICS = 5  # of the month's hot topics, those a monthly session is offered


class VenueIn(Input):
    name: Annotated[str, cap(100)]
    party_committee: Annotated[str, cap(100)]
    place: Annotated[str, cap(200)] = ""


class MonthlyIn(Input):
    day: int
    time: Annotated[str, cap(5)]


class OnDemandIn(Input):
    venue: uuid.UUID
    scheduled_for: datetime.datetime
    concern_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


class HeldIn(Input):
    party_members: list[Annotated[str, cap(100)]]
    topics: list[uuid.UUID] = msgspec.field(default_factory=list)
    notes: str = ""


class VenueOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    party_committee: str
    place: str
    monthly: str | None


class AgendaItem(msgspec.Struct):
    id: uuid.UUID
    reference: str
    title: str


class HotTopic(msgspec.Struct):
    """每月一题: one of the month's hot topics (core.related.hot), a candidate item for a monthly session. Its
    label is made from public summaries: everyone with a role in the community reads the sessions."""

    label: str
    count: int
    supporters: int
    where: str
    concern_ids: list[uuid.UUID]


class SessionOut(msgspec.Struct):
    id: uuid.UUID
    venue: uuid.UUID
    venue_name: str
    kind: str
    kind_name: str
    scheduled_for: datetime.datetime
    state: str
    agenda: list[AgendaItem]
    topics: list[str]
    party_members: list[str]
    notes: str
    held_at: datetime.datetime | None
    # A planned monthly session's candidates besides the waiting concerns: the hot topics of the month before
    # its own (a whole month by the time it meets).
    hot_topics: list[HotTopic] = msgspec.field(default_factory=list)
    hot_month: str | None = None  # YYYY-MM


class Tally(msgspec.Struct):
    """The year's record of a community's Party-led deliberation."""

    year: int
    sessions_held: int
    monthly_held: int
    on_demand_held: int
    party_member_participations: int
    distinct_party_members: int
    by_month: dict[str, int]


def next_monthly(after: datetime.datetime, day: int, time: str) -> datetime.datetime:
    """The first "每月 day 日 time" (Beijing time) strictly after `after`."""
    hour, minute = (int(part) for part in time.split(":"))
    local = after.astimezone(clock.LOCAL_TZ)
    candidate = local.replace(day=day, hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        candidate = candidate.replace(year=year, month=month)
    return candidate


def hot_month(scheduled_for: datetime.datetime) -> datetime.date:
    """The month whose hot topics a monthly session takes up: the one before the session's, or this month if the
    session is further ahead."""
    first = scheduled_for.astimezone(clock.LOCAL_TZ).date().replace(day=1)
    before = (first - datetime.timedelta(days=1)).replace(day=1)
    return min(before, clock.today().replace(day=1))


def venue_out(venue: Venue) -> VenueOut:
    monthly = f"每月{venue.monthly_day}日 {venue.monthly_time}" if venue.monthly_day else None
    return VenueOut(id=venue.id, name=venue.name, party_committee=venue.party_committee, place=venue.place,
                    monthly=monthly)


class PavilionService:
    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def venue(self, venue_id: uuid.UUID, field: str | None = None) -> Venue:
        venue = await self.session.scalar(select(Venue).where(Venue.id == venue_id))
        if venue is None:
            if field:
                raise InvalidInput("本社区没有这个议事场所", field=field)
            raise NotFound("没有这个议事场所")
        return venue

    async def venues(self) -> list[Venue]:
        return list((await self.session.scalars(select(Venue).order_by(Venue.name))).all())

    async def create_venue(self, data: VenueIn) -> Venue:
        name = clean_text(data.name, "name", Label("议事场所名称"), 100)
        if await self.session.scalar(select(Venue.id).where(Venue.name == name)):
            raise Conflict("议事场所 {name} 已存在", field="name", name=name)
        venue = Venue(name=name, party_committee=clean_text(data.party_committee, "party_committee", Label("党组织"), 100),
                      place=data.place.strip()[:200])
        self.session.add(venue)
        await self.session.flush()
        return venue

    async def set_monthly(self, venue_id: uuid.UUID, data: MonthlyIn) -> PavilionSession:
        """每月一议事: the venue's day and hour; the next session is planned at once."""
        venue = await self.venue(venue_id)
        if not 1 <= data.day <= 28:
            raise InvalidInput("每月议事日须在 1–28 日之间（每个月都有的日子）", field="day")
        if not TIME_RE.fullmatch(data.time):
            raise InvalidInput("时间格式为 HH:MM，如 19:30", field="time")
        venue.monthly_day, venue.monthly_time = data.day, data.time
        await self.session.flush()
        return await self._plan_next(venue, replan=True)

    async def _plan_next(self, venue: Venue, replan: bool = False) -> PavilionSession:
        planned = await self.session.scalar(select(PavilionSession).where(
            PavilionSession.venue_id == venue.id, PavilionSession.kind == "monthly",
            PavilionSession.state == "planned"))
        when = next_monthly(clock.now(), venue.monthly_day, venue.monthly_time)  # type: ignore[arg-type]
        if planned is not None:
            if replan:
                planned.scheduled_for = when
                await self.session.flush()
            return planned
        planned = PavilionSession(venue_id=venue.id, kind="monthly", scheduled_for=when, state="planned",
                                  agenda=[], topics=[], party_members=[])
        self.session.add(planned)
        await self.session.flush()
        return planned

    async def on_demand(self, data: OnDemandIn) -> PavilionSession:
        """有事来商量: a session called when a matter cannot wait for the month."""
        venue = await self.venue(data.venue, field="venue")
        if data.scheduled_for.tzinfo is None:
            raise InvalidInput("{name}须带时区，如 2026-07-28T15:00:00+08:00", field="scheduled_for", name=label("scheduled_for"))
        ids = list(dict.fromkeys(data.concern_ids))
        found = (await self.session.scalars(select(Concern.id).where(Concern.id.in_(ids)))).all() if ids else []
        if len(found) != len(ids):
            raise InvalidInput("有的诉求在本社区不存在", field="concern_ids")
        session = PavilionSession(venue_id=venue.id, kind="on_demand", scheduled_for=data.scheduled_for,
                                  state="planned", agenda=[str(i) for i in ids], topics=[], party_members=[])
        self.session.add(session)
        await self.session.flush()
        return session

    async def get(self, session_id: uuid.UUID) -> PavilionSession:
        found = await self.session.scalar(select(PavilionSession).where(PavilionSession.id == session_id))
        if found is None:
            raise NotFound("没有这次议事会")
        return found

    async def sessions(self, upcoming_only: bool) -> list[PavilionSession]:
        statement = select(PavilionSession)
        if upcoming_only:
            statement = statement.where(PavilionSession.state == "planned")
        return list((await self.session.scalars(statement.order_by(PavilionSession.scheduled_for))).all())

    async def _waiting(self) -> list[uuid.UUID]:
        """Accepted concerns not yet drawn into a topic: what a monthly session picks up."""
        return list((await self.session.scalars(select(Concern.id).where(
            Concern.status == "accepted", Concern.topic_id.is_(None)).order_by(Concern.created_at))).all())

    async def hold(self, session_id: uuid.UUID, data: HeldIn) -> PavilionSession:
        held = await self.get(session_id)
        if held.state != "planned":
            raise Conflict("这次议事会已经记录过")
        usernames = list(dict.fromkeys(data.party_members))
        members = set((await self.session.scalars(
            select(User.username).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(User.username.in_(usernames), RoleAssignment.role == "party_member"))).all()) if usernames else set()
        strangers = [u for u in usernames if u not in members]
        if strangers:
            raise InvalidInput("不是本社区的党员：{users}", field="party_members", users=", ".join(strangers))
        topic_ids = list(dict.fromkeys(data.topics))
        found = (await self.session.scalars(select(Topic.id).where(Topic.id.in_(topic_ids)))).all() if topic_ids else []
        if len(found) != len(topic_ids):
            raise InvalidInput("有的议题在本社区不存在", field="topics")
        if held.kind == "monthly":
            held.agenda = [str(i) for i in await self._waiting()]
        held.topics = list(dict.fromkeys([*held.topics, *(str(t) for t in topic_ids)]))
        held.party_members, held.notes = usernames, data.notes.strip()[:5000]
        held.state, held.held_at = "held", clock.now()
        await self.session.flush()
        if held.kind == "monthly":
            await self._plan_next(await self.venue(held.venue_id))
        return held

    async def _hot(self, sessions: list[PavilionSession]) -> dict[datetime.date, list[HotTopic]]:
        """The hot topics of the month before each planned monthly session's (this month's, at the latest)."""
        months = {hot_month(s.scheduled_for) for s in sessions if s.kind == "monthly" and s.state == "planned"}
        found = {}
        for month in months:
            hot = await hot_topics(self.scope, month, public=True, limit=HOT_TOPICS)
            found[month] = [HotTopic(label=t.label, count=t.count, supporters=t.supporters, where=t.where,
                                     concern_ids=t.concern_ids) for t in hot.topics]
        return found

    async def shape(self, sessions: list[PavilionSession]) -> list[SessionOut]:
        venues = {v.id: v for v in await self.venues()}
        waiting = await self._waiting() if any(s.kind == "monthly" and s.state == "planned" for s in sessions) else []
        agendas = {s.id: ([str(i) for i in waiting] if s.kind == "monthly" and s.state == "planned" else s.agenda)
                   for s in sessions}
        hot = await self._hot(sessions)
        ids = {uuid.UUID(i) for a in agendas.values() for i in a}
        concerns = {c.id: c for c in (await self.session.scalars(select(Concern).where(Concern.id.in_(ids)))).all()} \
            if ids else {}
        return [SessionOut(
            id=s.id, venue=s.venue_id, venue_name=venues[s.venue_id].name, kind=s.kind, kind_name=SESSION_KINDS[s.kind],
            scheduled_for=s.scheduled_for, state=s.state,
            agenda=[AgendaItem(id=c.id, reference=c.reference, title=c.title)
                    for c in (concerns.get(uuid.UUID(i)) for i in agendas[s.id]) if c is not None],
            topics=s.topics, party_members=s.party_members, notes=s.notes, held_at=s.held_at,
            **self._candidates(s, hot)) for s in sessions]

    @staticmethod
    def _candidates(sitting: PavilionSession, hot: dict[datetime.date, list[HotTopic]]) -> dict[str, Any]:
        if sitting.kind != "monthly" or sitting.state != "planned":
            return {}
        month = hot_month(sitting.scheduled_for)
        return {"hot_topics": hot[month], "hot_month": month.strftime("%Y-%m")}

    async def tally(self, year: int) -> Tally:
        start, end = clock.day_range(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        held = (await self.session.scalars(select(PavilionSession).where(
            PavilionSession.state == "held", PavilionSession.held_at >= start, PavilionSession.held_at < end))).all()
        by_month: dict[str, int] = {}
        for s in held:
            month = s.held_at.astimezone(clock.LOCAL_TZ).strftime("%Y-%m")  # type: ignore[union-attr]
            by_month[month] = by_month.get(month, 0) + 1
        return Tally(
            year=year, sessions_held=len(held), monthly_held=sum(1 for s in held if s.kind == "monthly"),
            on_demand_held=sum(1 for s in held if s.kind == "on_demand"),
            party_member_participations=sum(len(s.party_members) for s in held),
            distinct_party_members=len({m for s in held for m in s.party_members}), by_month=dict(sorted(by_month.items())))


async def follow_event(session: AsyncSession, event: WorkflowEvent) -> None:
    """A topic's meeting scheduled at one of our venues joins the venue's next planned session."""
    if event.action != "topic.schedule" or not event.payload.get("venue"):
        return
    venue = await session.scalar(select(Venue).where(Venue.name == event.payload["venue"]))
    if venue is None:
        return
    planned = await session.scalar(select(PavilionSession).where(
        PavilionSession.venue_id == venue.id, PavilionSession.state == "planned")
        .order_by(PavilionSession.scheduled_for).limit(1))
    if planned is not None and str(event.topic_id) not in planned.topics:
        planned.topics = [*planned.topics, str(event.topic_id)]
        await session.flush()


async def period_figures(session: AsyncSession, date_from: datetime.date, date_to: datetime.date) -> dict[str, int]:
    """Sessions held and Party members' participation in a period, for the tenant's statistics."""
    start, end = clock.day_range(date_from, date_to)
    held = (await session.scalars(select(PavilionSession).where(
        PavilionSession.state == "held", PavilionSession.held_at >= start, PavilionSession.held_at < end))).all()
    return {"sessions_held": len(held), "party_member_participations": sum(len(s.party_members) for s in held)}


async def upcoming_sessions(session: AsyncSession) -> list[dict[str, Any]]:
    """Planned sessions, soonest first, as a portal shows them."""
    planned = (await session.execute(
        select(PavilionSession.kind, PavilionSession.scheduled_for, Venue.name)
        .join(Venue, (Venue.tenant_id == PavilionSession.tenant_id) & (Venue.id == PavilionSession.venue_id))
        .where(PavilionSession.state == "planned").order_by(PavilionSession.scheduled_for))).all()
    return [{**phrase(Label("{kind}（{venue}）"), kind=Label(SESSION_KINDS[kind]), venue=venue),
             "at": at.astimezone(clock.LOCAL_TZ).isoformat()} for kind, at, venue in planned]


async def session_calendar(session: AsyncSession, tenant_name: str) -> bytes:
    """Every session, planned or held, as iCalendar: kind, venue and convening Party organization, no names."""
    rows = (await session.execute(
        select(PavilionSession, Venue)
        .join(Venue, (Venue.tenant_id == PavilionSession.tenant_id) & (Venue.id == PavilionSession.venue_id))
        .order_by(PavilionSession.scheduled_for))).all()
    return build_calendar(f"{tenant_name} 每月一议事 · 有事来商量", (
        CalendarEntry(
            uid=f"{sitting.id}@yishi", start=sitting.scheduled_for,
            end=sitting.scheduled_for + datetime.timedelta(hours=2),
            summary=f"{SESSION_KINDS[sitting.kind]}：{venue.name}", stamp=sitting.updated_at,
            location=venue.place or venue.name,
            description=f"{venue.party_committee}召集" + (
                f"；已召开，{len(sitting.party_members)} 名党员参加" if sitting.state == "held" else ""),
            status="CONFIRMED",
        ) for sitting, venue in rows))
