"""Request and response shapes of time limits and of revisits (回访)."""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from core.inputs import Input, cap

Hours = Annotated[list[Annotated[str, cap(5)]], msgspec.Meta(max_length=2)]


class LimitIn(Input):
    """A tenant's own limits for one category ("*": any) and urgency; a kind left null is inherited."""

    urgency: Annotated[str, cap(10)]
    category: Annotated[str, cap(40)] = "*"
    respond: Annotated[str, cap(32)] | None = None
    respond_working: bool = False
    resolve: Annotated[str, cap(32)] | None = None
    resolve_working: bool = False


class PolicyIn(Input):
    """The tenant's own values, all of them (PUT replaces): what is left out is inherited."""

    limits: Annotated[list[LimitIn], msgspec.Meta(max_length=200)]
    working_hours: Annotated[list[Hours], msgspec.Meta(max_length=6)] | None = None  # [["08:30", "12:00"], …]
    escalate_after_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    escalate_ceiling: Annotated[str, cap(16)] | None = None


class TenantRef(msgspec.Struct):
    slug: str
    name: str


class ValueOut(msgspec.Struct):
    duration: str  # ISO 8601
    working: bool  # counted in working time
    source: TenantRef | None  # the tenant that set it; null: the platform's default
    own: bool  # set by this tenant itself


class LimitOut(msgspec.Struct):
    category: str
    category_name: str
    urgency: str
    urgency_name: str
    respond: ValueOut
    resolve: ValueOut


class PolicyOut(msgspec.Struct):
    """The limits in force (after inheritance, each with where it came from) and the tenant's own values, as PUT
    takes them."""

    tenant: TenantRef
    limits: list[LimitOut]
    working_hours: list[list[str]]
    working_hours_source: TenantRef | None
    escalate_after_hours: int | None
    escalate_after_hours_source: TenantRef | None
    escalate_ceiling: str
    escalate_ceiling_source: TenantRef | None
    own: PolicyIn
    overridden: list[str]  # own values a tenant above has since made tighter: "category/urgency/kind"


class RevisitIn(Input):
    """回访的两个问题: solved (已解决 true / 未解决 false, which reopens the concern) and satisfaction
    (satisfied 满意 / basic 基本满意 / unsatisfied 不满意); `channel` phone when staff record a phone call."""

    solved: bool
    satisfaction: Annotated[str, cap(12)]
    channel: Annotated[str, cap(10)] = "self"
    note: Annotated[str, cap(2000)] | None = None


class RevisitOut(msgspec.Struct):
    round: int
    asked_at: datetime.datetime
    solved: bool | None
    satisfaction: str | None
    answered_at: datetime.datetime | None
    channel: str | None
    note: str | None


class PauseIn(Input):
    """Why a concern's clock stops: waiting_resident (等待居民), waiting_department (等待部门) or other (with a note)."""

    reason: Annotated[str, cap(20)]
    note: Annotated[str, cap(500)] | None = None


class ExtensionIn(Input):
    """延期: how much more time to resolve (an ISO 8601 duration, counted as the resolve limit counts), and why."""

    extra: Annotated[str, cap(32)]
    reason: Annotated[str, cap(500)]


class ExtensionDecisionIn(Input):
    approve: bool
    note: Annotated[str, cap(500)] | None = None


class ExtensionOut(msgspec.Struct):
    id: str
    concern_id: str
    reference: str
    title: str
    tenant: str  # the handling tenant's slug
    tenant_name: str
    extra: str
    reason: str
    status: str
    resolve_by: str | None
    decision_note: str | None
    requested_at: str
