"""What the public reads, shaped: published results with their supervision, and public meetings."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import msgspec


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
