"""Request and response shapes of topics, research, meetings, decisions, action items, ratings, follow-ups and
events."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec

# The longest reason or note the services keep (they refuse a longer one by name; this stops it at the door).
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class TopicCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    description: str = ""
    concern_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


class Reason(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class SurveyResponse(msgspec.Struct, forbid_unknown_fields=True):
    option: str
    comment: str = ""
    building: str | None = None


class ResearchIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    date: datetime.date
    participants: list[str] = msgspec.field(default_factory=list)
    findings: str = ""
    question: str | None = None
    options: list[str] = msgspec.field(default_factory=list)
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


class Invitees(msgspec.Struct, forbid_unknown_fields=True):
    roles: list[str] = msgspec.field(default_factory=list)
    orgs: list[str] = msgspec.field(default_factory=list)
    users: list[str] = msgspec.field(default_factory=list)


class MeetingIn(msgspec.Struct, forbid_unknown_fields=True):
    mechanism: str
    venue: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None = None
    invitees: Invitees = msgspec.field(default_factory=Invitees)
    agenda: str | None = None


class RescheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime.datetime
    reason: Note


class Opinion(msgspec.Struct, forbid_unknown_fields=True):
    group: str
    text: str


class MinutesIn(msgspec.Struct, forbid_unknown_fields=True):
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


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    method: str
    votes: dict[str, int] = msgspec.field(default_factory=dict)
    eligible_voters: int | None = None


class DecisionOut(msgspec.Struct):
    meeting: uuid.UUID
    text: str
    method: str
    votes: dict[str, int]
    eligible_voters: int | None
    decided_at: datetime.datetime


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    due_date: datetime.date
    owner_org: str | None = None
    owner_user: str | None = None


class ProgressIn(msgspec.Struct, forbid_unknown_fields=True):
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


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    score: int
    comment: str = ""


class RatingSummary(msgspec.Struct):
    count: int
    average: float | None


class FollowUpClose(msgspec.Struct, forbid_unknown_fields=True):
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
