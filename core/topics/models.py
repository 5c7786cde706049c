"""Tables of the deliberation: topics, research, meetings, decisions, action items, progress, ratings and follow-ups."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Date, Float, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned


def _topic_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "topic_id"], ["topic.tenant_id", "topic.id"])


class Topic(TenantOwned, Base):
    """议题: an agenda item drawn from concerns, moving through the six steps."""

    __tablename__ = "topic"
    __table_args__ = (Index("ix_topic_tenant_state", "tenant_id", "state"),)

    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="drafted")
    created_by_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)


class Research(TenantOwned, Base):
    """议前调研: a site visit (实地考察) or a resident survey (征询)."""

    __tablename__ = "research"
    __table_args__ = (_topic_fk(),)

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    kind: Mapped[str] = mapped_column(String(20))
    date: Mapped[datetime.date] = mapped_column(Date)
    participants: Mapped[list[str]] = mapped_column(JsonB, default=list)
    findings: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JsonB, default=list)
    counts: Mapped[dict[str, int]] = mapped_column(JsonB, default=dict)
    responses: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(GUID)


class Meeting(TenantOwned, Base):
    """协商会: a consultation under a mechanism at a venue, with invitees, minutes and opinions."""

    __tablename__ = "meeting"
    __table_args__ = (_topic_fk(), Index("ix_meeting_tenant_starts", "tenant_id", "starts_at"))

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    mechanism: Mapped[str] = mapped_column(String(30))
    venue: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    ends_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    invitees: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    attendance: Mapped[dict[str, int]] = mapped_column(JsonB, default=dict)
    agenda: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    opinions: Mapped[list[dict[str, str]]] = mapped_column(JsonB, default=list)
    minutes_recorded_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    cancelled_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class Decision(TenantOwned, Base):
    """协商结果: what the meeting decided, by consensus or vote."""

    __tablename__ = "decision"
    __table_args__ = (_topic_fk(), UniqueConstraint("tenant_id", "topic_id"))

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    meeting_id: Mapped[uuid.UUID] = mapped_column(GUID)
    text: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(20))
    votes: Mapped[dict[str, int]] = mapped_column(JsonB, default=dict)
    eligible_voters: Mapped[int | None] = mapped_column(Integer)


class ActionItem(TenantOwned, Base):
    """执行事项: who does what by when, with its progress."""

    __tablename__ = "action_item"
    __table_args__ = (_topic_fk(), Index("ix_action_item_tenant_status_due", "tenant_id", "status", "due_date"))

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    title: Mapped[str] = mapped_column(String(200))
    owner_org: Mapped[str | None] = mapped_column(String(100))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    due_date: Mapped[datetime.date] = mapped_column(Date)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)


class ActionProgress(TenantOwned, Base):
    """A progress report on an action item, with evidence photos."""

    __tablename__ = "action_progress"
    __table_args__ = (ForeignKeyConstraint(["tenant_id", "action_id"], ["action_item.tenant_id", "action_item.id"]),)

    action_id: Mapped[uuid.UUID] = mapped_column(GUID)
    percent: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[uuid.UUID] = mapped_column(GUID)


class Rating(TenantOwned, Base):
    """A resident's rating of the outcome of a topic their concern fed."""

    __tablename__ = "rating"
    __table_args__ = (_topic_fk(), UniqueConstraint("tenant_id", "topic_id", "user_id"))

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class FollowUp(TenantOwned, Base):
    """回访: staff call back the residents of a topic they rated low, and close it with what they found."""

    __tablename__ = "topic_follow_up"
    __table_args__ = (_topic_fk(), ForeignKeyConstraint(["tenant_id", "rating_id"], ["rating.tenant_id", "rating.id"]),
                      Index("ix_topic_follow_up_tenant_status", "tenant_id", "status"))

    topic_id: Mapped[uuid.UUID] = mapped_column(GUID)
    status: Mapped[str] = mapped_column(String(10), default="open")
    reason: Mapped[str] = mapped_column(String(20))
    # The rating that opened it, its score and the topic's average then (a resident may re-rate later).
    rating_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    score: Mapped[int | None] = mapped_column(Integer)
    average: Mapped[float | None] = mapped_column(Float)
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    note: Mapped[str | None] = mapped_column(Text)
