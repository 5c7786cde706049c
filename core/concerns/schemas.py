"""Request and response shapes of concerns."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec

from core.inputs import Input, cap


class ConcernCreate(Input):
    title: Annotated[str, cap(120)]
    description: str
    category: Annotated[str, cap(40)]
    channel: Annotated[str, cap(20)] = "portal"
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None
    place: Annotated[str, cap(200)] | None = None
    resident_name: Annotated[str, cap(50)] | None = None
    resident_phone: Annotated[str, cap(20)] | None = None


class ConcernCreated(msgspec.Struct):
    id: uuid.UUID
    reference: str
    status: str
    # The reference and its secret: what the resident keeps to follow the concern without signing in.
    # None only when replaying an answer stored before tracking codes existed.
    tracking_code: str | None = None


class ConcernOut(msgspec.Struct):
    id: uuid.UUID
    reference: str
    title: str
    description: str
    category: str
    category_name: str
    channel: str
    compound: uuid.UUID | None
    building: uuid.UUID | None
    place: str | None
    public_summary: str
    public_summary_edited: bool
    tracking_code: str | None
    status: str
    status_name: str
    resident_name: str | None
    resident_phone: str | None
    filed_by: str
    triage_reason: str | None
    triage_note: str | None
    instructions: str | None
    escalated_to: str | None
    topic: uuid.UUID | None
    photos: list[uuid.UUID]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    # Where the community verifies residency, for staff: whether staff confirmed where the concern's resident
    # lives (false: a resident not confirmed yet). None: not verified there, or no resident's account to confirm.
    resident_confirmed: bool | None = None


class Triage(Input):
    action: Annotated[str, cap(20)]
    reason: str | None = None
    note: str | None = None


class PublicSummaryIn(Input):
    """Empty or null: the public reads the title with personal data taken out again."""

    public_summary: Annotated[str, msgspec.Meta(max_length=120)] | None = None


class EscalationReturn(Input):
    instructions: str


class CategoryIn(Input):
    code: Annotated[str, cap(40)]
    name: Annotated[str, cap(50)]


class CategoryOut(msgspec.Struct):
    code: str
    name: str
    default: bool


class PhotoOut(msgspec.Struct):
    id: uuid.UUID
    content_type: str
    width: int
    height: int
    size: int


class PublicConcern(msgspec.Struct):
    """What anyone holding the tracking code may see: the public summary, never who filed it or how to reach them,
    nor the description."""

    reference: str
    summary: str
    category_name: str
    status: str
    status_name: str
    topic_state: str | None
    topic_step: str | None
    result: str | None  # the portal page of the published result, once the topic's is public
    created_at: datetime.datetime
    updated_at: datetime.datetime
