"""Pages of data anyone may read without signing in: follow a concern, published results, a portal's figures."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Photo
from core.concerns.schemas import PublicConcern
from core.concerns.services import public_status
from core.errors import NotFound
from core.events import WorkflowEvent
from core.http import DbSession, Limit, Offset, client_address
from core.redaction import redact
from core.stats import PublicStats, public_stats, report_year
from core.tenancy.models import Tenant
from core.tenancy.scope import enter
from core.topics.machine import PUBLIC_STATES, STATE_NAMES, STEP_NAMES
from core.topics.models import ActionItem, ActionProgress, Decision, Meeting, Research, Topic
from core.topics.services import actions_out, photo_ids, rating_summaries


class TimelineStep(msgspec.Struct):
    step: int
    name: str
    at: datetime.datetime


class PublicAction(msgspec.Struct):
    title: str
    owner_org: str | None
    due_date: datetime.date
    percent: int
    status: str
    overdue: bool
    photos: list[uuid.UUID]


class PublicResult(msgspec.Struct):
    """A published decision with its supervision; no resident's name, phone or address, ever (staff wrote these
    texts, but may have quoted a concern: they pass through the same redaction as a concern's title)."""

    id: uuid.UUID
    title: str
    decision: str
    method: str
    state: str
    state_name: str
    published_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    actions: list[PublicAction]
    timeline: list[TimelineStep]
    photos: list[uuid.UUID]
    rating_count: int
    average_rating: float | None


async def provide_public_tenant(db_session: DbSession, slug: FromPath[str]) -> Tenant:
    tenant = await db_session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.archived.is_(False)))
    if tenant is None:
        raise NotFound("没有租户 {slug}", slug=slug)
    await enter(db_session, tenant)
    return tenant


# The event that marks reaching each step of the method.
STEP_EVENTS = {"topic.draft": 2, "topic.research": 3, "topic.schedule": 4, "topic.decide": 4, "topic.publish": 5,
               "topic.progress": 6, "topic.complete_action": 6}


async def published_results(session: AsyncSession, limit: int, offset: int,
                            topic_id: uuid.UUID | None = None) -> tuple[list[PublicResult], int]:
    """Published results, newest first (or the one of `topic_id`, when it is published)."""
    statement = select(Topic).where(Topic.state.in_(PUBLIC_STATES))
    if topic_id is not None:
        statement = statement.where(Topic.id == topic_id)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    topics = (await session.scalars(statement.order_by(Topic.published_at.desc(), Topic.id)
                                    .limit(limit).offset(offset))).all()
    ids = [t.id for t in topics]
    decisions = {d.topic_id: d for d in (await session.scalars(select(Decision).where(Decision.topic_id.in_(ids)))).all()} if ids else {}
    actions = (await session.scalars(select(ActionItem).where(ActionItem.topic_id.in_(ids))
                                     .order_by(ActionItem.due_date))).all() if ids else []
    shaped = {a.id: a for a in await actions_out(session, actions)}
    timeline: dict[uuid.UUID, dict[int, datetime.datetime]] = {}
    if ids:
        for topic_id, action, at in await session.execute(
                select(WorkflowEvent.topic_id, WorkflowEvent.action, WorkflowEvent.at)
                .where(WorkflowEvent.topic_id.in_(ids), WorkflowEvent.subject_kind == "topic")
                .order_by(WorkflowEvent.seq)):
            if action in STEP_EVENTS:
                timeline.setdefault(topic_id, {}).setdefault(STEP_EVENTS[action], at)
    research = (await session.execute(select(Research.topic_id, Research.id).where(Research.topic_id.in_(ids)))).all() if ids else []
    research_photos = await photo_ids(session, "research", [r for _, r in research])
    ratings = await rating_summaries(session, ids)
    results = []
    for topic in topics:
        decision = decisions.get(topic.id)
        items = [shaped[a.id] for a in actions if a.topic_id == topic.id]
        photos = [p for t, r in research if t == topic.id for p in research_photos.get(r, [])]
        rating = ratings[topic.id]
        results.append(PublicResult(
            id=topic.id, title=redact(topic.title), decision=redact(decision.text) if decision else "",
            method=decision.method if decision else "",
            state=topic.state, state_name=STATE_NAMES[topic.state], published_at=topic.published_at,
            completed_at=topic.completed_at,
            actions=[PublicAction(title=redact(a.title), owner_org=a.owner_org, due_date=a.due_date, percent=a.percent,
                                  status=a.status, overdue=a.overdue,
                                  photos=[p for r in a.progress for p in r.photos]) for a in items],
            timeline=[TimelineStep(step=step, name=STEP_NAMES[step], at=at)
                      for step, at in sorted(timeline.get(topic.id, {}).items())],
            photos=photos, rating_count=rating.count, average_rating=rating.average,
        ))
    return results, int(total or 0)


@dataclass(frozen=True)
class PublicTopic:
    id: uuid.UUID
    title: str
    state: str


@dataclass(frozen=True)
class PublicMeeting:
    """A meeting as the public calendar shows it: when, where, under which mechanism, about which topic."""

    id: uuid.UUID
    mechanism: str
    venue: str
    agenda: str | None
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None
    updated_at: datetime.datetime
    cancelled_at: datetime.datetime | None = None


async def public_meetings(session: AsyncSession, upcoming: bool, limit: int) -> list[tuple[PublicMeeting, PublicTopic]]:
    """Meetings still to come (soonest first) or held (latest first), with their texts redacted."""
    now = clock.now()
    statement = select(Meeting, Topic).join(Topic, (Topic.tenant_id == Meeting.tenant_id) & (Topic.id == Meeting.topic_id))
    statement = statement.where(Topic.state != "withdrawn")
    if upcoming:
        statement = statement.where(Meeting.starts_at >= now).order_by(Meeting.starts_at)
    else:
        statement = statement.where(Meeting.starts_at < now).order_by(Meeting.starts_at.desc())
    return [(PublicMeeting(id=meeting.id, mechanism=meeting.mechanism, venue=redact(meeting.venue),
                           agenda=redact(meeting.agenda) if meeting.agenda else None, starts_at=meeting.starts_at,
                           ends_at=meeting.ends_at, updated_at=meeting.updated_at,
                           cancelled_at=meeting.cancelled_at),
             PublicTopic(id=topic.id, title=redact(topic.title), state=topic.state))
            for meeting, topic in (await session.execute(statement.limit(limit))).all()]


async def public_photo(session: AsyncSession, photo_id: uuid.UUID) -> Photo:
    """A research or progress photo of a published topic; concern photos are never public."""
    photo = await session.scalar(select(Photo).where(Photo.id == photo_id, Photo.owner_kind.in_(("research", "progress"))))
    if photo is None:
        raise NotFound("没有这张照片")
    if photo.owner_kind == "research":
        topic_id = await session.scalar(select(Research.topic_id).where(Research.id == photo.owner_id))
    else:
        topic_id = await session.scalar(select(ActionItem.topic_id).join(
            ActionProgress, (ActionProgress.tenant_id == ActionItem.tenant_id) & (ActionProgress.action_id == ActionItem.id)
        ).where(ActionProgress.id == photo.owner_id))
    state = await session.scalar(select(Topic.state).where(Topic.id == topic_id)) if topic_id else None
    if state not in PUBLIC_STATES:
        raise NotFound("没有这张照片")
    return photo


PublicTenant = NamedDependency[Tenant]


class PublicController(Controller):
    path = "/api/v1/tenants/{slug:str}/public"
    tags = ["公开 Public"]
    dependencies = {"tenant": Provide(provide_public_tenant)}
    opt = {"exclude_from_auth": True}

    @get("/concerns/{tracking_code:str}", summary="凭查询码（诉求编号加校验码，如 JSX-2026-000123-7QKM）查询进度（不含个人信息）",
         description="只有编号、校验码不对与编号不存在一样答 404；同一来源查错 30 次后，每次须等待的时间逐次加倍（最长 15 分钟），未到时答 429。")
    async def follow_concern(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                             tracking_code: FromPath[str]) -> PublicConcern:
        client = client_address(request)
        return await public_status(db_session, tenant, tracking_code, client)

    @get("/results", summary="已公开的协商结果及执行进度（新到旧）")
    async def results(self, db_session: DbSession, tenant: PublicTenant, limit: Limit = 20,
                      offset: Offset = 0) -> OffsetPagination[PublicResult]:
        items, total = await published_results(db_session, limit, offset)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/stats", summary="门户展示的年度数字：协商次数、办成实事")
    async def stats(self, db_session: DbSession, tenant: PublicTenant, year: FromQuery[int | None] = None) -> PublicStats:
        return await public_stats(db_session, report_year(year))

    @get("/blocks", summary="门户首页上各插件的板块（下次代表接待、下次每月一议事…）")
    async def blocks(self, request: Request, db_session: DbSession, tenant: PublicTenant) -> list[dict[str, Any]]:
        return await request.app.state.plugins.portal_blocks(db_session, tenant)

    @get("/photos/{photo_id:uuid}", summary="公开结果中的照片", media_type="image/*")
    async def photo(self, request: Request, db_session: DbSession, tenant: PublicTenant,
                    photo_id: FromPath[uuid.UUID]) -> Response[bytes]:
        photo = await public_photo(db_session, photo_id)
        return Response(request.app.state.photo_store.load(photo.storage_key), media_type=photo.content_type,
                        headers={"Cache-Control": "public, max-age=86400"})
