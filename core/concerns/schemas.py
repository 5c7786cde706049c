"""Request and response shapes of concerns."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec

from core.concerns.models import CHANNELS
from core.inputs import Input, cap, one_of
from core.timelimits.models import URGENCIES


class ConcernCreate(Input):
    title: Annotated[str, cap(120)]
    description: str
    category: Annotated[str, cap(40)]
    channel: Annotated[str, one_of(CHANNELS, 20)] = "portal"
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None
    place: Annotated[str, cap(200)] | None = None
    resident_name: Annotated[str, cap(50)] | None = None
    resident_phone: Annotated[str, cap(20)] | None = None
    # urgent | normal | complex: sets the time limits; only those who file for residents may choose other than normal.
    urgency: Annotated[str, one_of(URGENCIES, 10)] = "normal"


class Deadlines(msgspec.Struct):
    """A concern's clock: when it must be responded to (签收并联系居民) and resolved (办结), when it was responded
    to, whether it is paused, and its light now (green, yellow, red; null once closed)."""

    urgency: str
    respond_by: datetime.datetime | None
    resolve_by: datetime.datetime | None
    responded_at: datetime.datetime | None
    paused: bool
    light: str | None


class ConcernByPhone(Input):
    """A concern filed without an account: the phone proved by a code asked for with the purpose `file`, and the
    community's privacy notice accepted (its version as `GET …/public/privacy` gives it)."""

    title: Annotated[str, cap(120)]
    description: str
    category: Annotated[str, cap(40)]
    phone: Annotated[str, cap(20)]
    code: Annotated[str, cap(6)]
    privacy_version: Annotated[str, cap(32)]
    accept_privacy: bool = False
    name: Annotated[str, cap(50)] | None = None
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None
    place: Annotated[str, cap(200)] | None = None


class FiledByPhone(msgspec.Struct):
    reference: str
    status: str
    # The reference and its secret: with no account, the one way to follow the concern (`track`).
    tracking_code: str | None
    track: str


class ConcernCreated(msgspec.Struct):
    id: uuid.UUID
    reference: str
    status: str
    # The reference and its secret: what the resident keeps to follow the concern without signing in.
    # None only when replaying an answer stored before tracking codes existed.
    tracking_code: str | None = None


class DuplicateOf(msgspec.Struct):
    """The concern a merged duplicate was merged into (its survivor), when, and until when staff may undo it."""

    id: uuid.UUID
    reference: str
    merged_at: datetime.datetime
    undo_until: datetime.datetime


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
    deadlines: Deadlines | None = None
    light: str | None = None
    # Where the community verifies residency, for staff: whether staff confirmed where the concern's resident
    # lives (false: a resident not confirmed yet). None: not verified there, or no resident's account to confirm.
    resident_confirmed: bool | None = None
    reopened: int = 0  # 重办: times a resident said it was not solved after it was resolved
    duplicate_of: DuplicateOf | None = None  # once merged (已合并办理): the concern handled in its stead
    supporters: int = 0  # 附议: residents who joined it (core.related)
    filed_by_name: str = ""  # the display name of whoever filed it ("" when filed by phone, with no account)
    editable: bool = False  # whether its filer may still edit or withdraw it (not triaged yet)


class ConcernPage(msgspec.Struct):
    """A page of concerns. Read the next one with `cursor=next_cursor` (keyset paging: the same cost on every page,
    and no row shown twice when new ones are filed meanwhile) or with `offset`."""

    items: list[ConcernOut]
    limit: int
    offset: int
    total: int | None  # how many match in all; not counted when paging by cursor
    next_cursor: str | None  # None on the last page, and for sort=light (the lights change with the clock)


class Triage(Input):
    action: Annotated[str, cap(20)]
    reason: str | None = None
    note: str | None = None


class ConcernEdit(Input):
    """The filer's concern as it should read, until staff triage it: every field, as when filing."""

    title: Annotated[str, cap(120)]
    description: str
    category: Annotated[str, cap(40)]
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None
    place: Annotated[str, cap(200)] | None = None


class ConcernWithdrawal(Input):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ConcernFix(Input):
    """Staff's correction: the category and the place (compound, building; null: none) the concern should have,
    and why."""

    category: Annotated[str, cap(40)]
    reason: Annotated[str, msgspec.Meta(max_length=2000)]
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None


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
    supporters: int = 0  # 附议: residents who joined it
