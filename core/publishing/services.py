"""What anyone may read without signing in, and nothing more: published results with their supervision, public
meetings, and the photos of published topics."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern, Photo
from core.errors import NotFound
from core.events import WorkflowEvent
from core.publishing.schemas import PublicAction, PublicMeeting, PublicResult, PublicTopic, TimelineStep
from core.redaction import redact
from core.tenancy.models import Tenant
from core.tenancy.scope import within
from core.topics.machine import PUBLIC_STATES, STATE_NAMES, STEP_NAMES
from core.topics.models import ActionItem, ActionProgress, Decision, Meeting, Research, Topic
from core.topics.services import actions_out, photo_ids, rating_summaries

# The event that marks reaching each step of the method.
STEP_EVENTS = {"topic.draft": 2, "topic.research": 3, "topic.schedule": 4, "topic.decide": 4, "topic.publish": 5,
               "topic.progress": 6, "topic.complete_action": 6}


@contextlib.asynccontextmanager
async def counting_below(session: AsyncSession, tenant: Tenant) -> AsyncIterator[None]:
    """A public page's figures and rates, read in the block, count `tenant` and every tenant below it: a
    community's its own, a street's, a district's or a city's the sum over its communities (and its own taken-over
    concerns). Only the figures widen: what each community's page shows, added up; results, meetings and concerns
    stay the tenant's own."""
    async with within(session, tenant, subtree=True):
        yield


@dataclass(frozen=True)
class HandledAbove:
    """Where a concern a level above took over is handled now: the new concern's reference, the code to follow it
    (the holder of the old code followed the same matter) and the tenant handling it."""

    reference: str
    tracking_code: str | None
    tenant_name: str
    tenant_slug: str


MAX_TAKE_OVERS = 4  # city, district, street, community: a matter climbs the tree at most this often


async def handled_above(session: AsyncSession, tenant: Tenant, reference: str) -> HandledAbove | None:
    """For a concern of `tenant` that the level above took over (上级已接办), the concern that carries it on there,
    followed up as far as it was taken over again; None for any other concern."""
    concern = await session.scalar(select(Concern).where(Concern.reference == reference))
    found = None
    for _hop in range(MAX_TAKE_OVERS):
        if concern is None or concern.status != "taken_over" or concern.escalated_to_id is None:
            break
        above = await session.get(Tenant, concern.escalated_to_id)
        if above is None:
            break
        async with within(session, above):  # the level above's concern: read for its reference alone
            successor = await session.scalar(select(Concern).where(Concern.origin_concern_id == concern.id))
        if successor is None:
            break
        found = HandledAbove(successor.reference, successor.tracking_code, above.name, above.slug)
        concern = successor
    return found


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
            if action in STEP_EVENTS and topic_id is not None:
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
