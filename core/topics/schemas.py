"""Request and response shapes of topics, research, meetings, decisions, action items, ratings, follow-ups and
events."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec

from core.inputs import Input, cap

# The longest reason or note the services keep (they refuse a longer one by name; this stops it at the door).
Note = Annotated[str, msgspec.Meta(max_length=2000)]



class TopicCreate(Input):
    title: Annotated[str, cap(120)]
    description: str = ""
    concern_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


class Reason(Input):
    reason: str


class SurveyResponse(Input):
    option: Annotated[str, cap(200)]
    comment: str = ""
    building: Annotated[str, cap(50)] | None = None


class ResearchIn(Input):
    kind: Annotated[str, cap(20)]
    date: datetime.date
    participants: list[Annotated[str, cap(100)]] = msgspec.field(default_factory=list)
    findings: str = ""
    question: str | None = None
    options: list[Annotated[str, cap(200)]] = msgspec.field(default_factory=list)
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    responses: list[SurveyResponse] = msgspec.field(default_factory=list)


class ResearchOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    date: datetime.date
    participants: list[str]
    findings: str
    question: str | None
    options: list[str]
    counts: dict[str, int]
    photos: list[uuid.UUID]


class Invitees(Input):
    roles: list[Annotated[str, cap(32)]] = msgspec.field(default_factory=list)
    orgs: list[Annotated[str, cap(100)]] = msgspec.field(default_factory=list)
    users: list[Annotated[str, cap(64)]] = msgspec.field(default_factory=list)


class MeetingIn(Input):
    mechanism: Annotated[str, cap(30)]
    venue: Annotated[str, cap(100)]
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None = None
    invitees: Invitees = msgspec.field(default_factory=Invitees)
    agenda: str | None = None


class RescheduleIn(Input):
    starts_at: datetime.datetime
    reason: Note


class Opinion(Input):
    group: Annotated[str, cap(30)]
    text: str


class MinutesIn(Input):
    minutes: str
    attendance: dict[str, int] = msgspec.field(default_factory=dict)
    agenda: str | None = None
    opinions: list[Opinion] = msgspec.field(default_factory=list)


class MeetingOut(msgspec.Struct):
    id: uuid.UUID
    topic: uuid.UUID
    mechanism: str
    mechanism_name: str
    venue: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None
    invitees: dict[str, Any]
    attendance: dict[str, int]
    agenda: str | None
    minutes: str | None
    opinions: list[dict[str, str]]
    held: bool
    cancelled_at: datetime.datetime | None
    cancel_reason: str | None


class DecisionIn(Input):
    text: str
    method: Annotated[str, cap(20)]
    votes: dict[str, int] = msgspec.field(default_factory=dict)
    eligible_voters: int | None = None


class DecisionOut(msgspec.Struct):
    meeting: uuid.UUID
    text: str
    method: str
    votes: dict[str, int]
    eligible_voters: int | None
    decided_at: datetime.datetime


class ActionIn(Input):
    title: Annotated[str, cap(200)]
    due_date: datetime.date
    owner_org: Annotated[str, cap(100)] | None = None
    owner_user: Annotated[str, cap(64)] | None = None


class ReassignIn(Input):
    """Who carries the item out from now on (a unit, a person by username, or both), and why."""

    reason: Note
    owner_org: Annotated[str, cap(100)] | None = None
    owner_user: Annotated[str, cap(64)] | None = None


class OwnerOut(msgspec.Struct):
    """Someone who may own an action item here: their username (what `owner_user` takes) and display name."""

    username: str
    display_name: str
    roles: list[str]


class ProgressIn(Input):
    percent: int
    note: str = ""


class ProgressOut(msgspec.Struct):
    id: uuid.UUID
    percent: int
    note: str
    reported_at: datetime.datetime
    photos: list[uuid.UUID]


class ActionOut(msgspec.Struct):
    id: uuid.UUID
    topic: uuid.UUID
    title: str
    owner_org: str | None
    owner_user: str | None
    due_date: datetime.date
    percent: int
    status: str
    overdue: bool
    completed_at: datetime.datetime | None
    progress: list[ProgressOut]
    light: str | None = None  # green, yellow, red from the due date (core.timelimits.clock.action_light); null once done
    owner_name: str | None = None  # the owner's display name, as pages show people


class RatingIn(Input):
    score: int
    comment: str = ""


class RatingSummary(msgspec.Struct):
    count: int
    average: float | None


class FollowUpClose(Input):
    note: Note


class FollowUpOut(msgspec.Struct):
    id: uuid.UUID
    topic: uuid.UUID
    topic_title: str
    status: str
    reason: str
    reason_name: str
    score: int | None
    average: float | None
    comment: str | None
    opened_at: datetime.datetime
    closed_by: str | None
    closed_at: datetime.datetime | None
    note: str | None


class ConcernBrief(msgspec.Struct):
    id: uuid.UUID
    reference: str
    title: str
    category: str
    status: str


class TopicOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    description: str
    state: str
    state_name: str
    step: int
    step_name: str
    withdrawn_reason: str | None
    published_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TopicDetail(msgspec.Struct):
    topic: TopicOut
    concerns: list[ConcernBrief]
    research: list[ResearchOut]
    meetings: list[MeetingOut]
    decision: DecisionOut | None
    actions: list[ActionOut]
    rating: RatingSummary
    follow_ups: list[FollowUpOut]


class EventOut(msgspec.Struct):
    seq: int
    action: str
    from_state: str | None
    to_state: str | None
    actor: str | None
    at: datetime.datetime
    payload: dict[str, Any]
    hash: str
    actor_name: str | None = None  # the actor's display name, as pages show people
