"""Tables of time limits: a tenant's own limits per category and urgency, and its working hours and escalation
settings (a null value is not set here: it is inherited from the tenant above, see services.py); the
extensions of a concern's deadline asked of the level above (延期), and the revisits that ask a resident whether
their concern was solved and how satisfied they are (回访)."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned
from core.i18n import Label

ANY_CATEGORY = "*"
ANY_CATEGORY_NAME = Label("全部类别")
URGENCIES = {"urgent": Label("紧急"), "normal": Label("一般"), "complex": Label("复杂")}
KINDS = {"respond": Label("响应时限"), "resolve": Label("办结时限")}  # respond: 签收并联系居民; resolve: 办结


class TimeLimit(TenantOwned, Base):
    """A tenant's own time limits for one category ("*": any) and urgency; each ISO 8601 duration, or null."""

    __tablename__ = "time_limit"
    __table_args__ = (UniqueConstraint("tenant_id", "category", "urgency"),)

    category: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(10))
    respond: Mapped[str | None] = mapped_column(String(32))
    respond_working: Mapped[bool] = mapped_column(Boolean, default=False)
    resolve: Mapped[str | None] = mapped_column(String(32))
    resolve_working: Mapped[bool] = mapped_column(Boolean, default=False)


class TimeLimitSetting(TenantOwned, Base):
    """A tenant's working hours ([["08:30", "12:00"], …], Beijing time) and when a red concern is escalated
    (after how many hours red, and never above which kind of tenant); null: inherited."""

    __tablename__ = "time_limit_setting"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    working_hours: Mapped[list[list[str]] | None] = mapped_column(JsonB)
    escalate_after_hours: Mapped[int | None] = mapped_column(Integer)
    escalate_ceiling: Mapped[str | None] = mapped_column(String(16))


ANSWERED = "answered_at IS NOT NULL"
SATISFACTION = {"satisfied": Label("满意"), "basic": Label("基本满意"), "unsatisfied": Label("不满意")}


def _concern_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "concern_id"], ["concern.tenant_id", "concern.id"])


class Extension(TenantOwned, Base):
    """延期: the handling tenant asks for more time to resolve a concern (`extra`, an ISO 8601 duration counted
    as the resolve limit counts); the level above approves or refuses it. In the concern's tenant."""

    __tablename__ = "deadline_extension"
    __table_args__ = (_concern_fk(), Index("ix_deadline_extension_status", "tenant_id", "status"))

    concern_id: Mapped[uuid.UUID] = mapped_column(GUID)
    extra: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | approved | refused
    requested_by_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    decided_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Revisit(TenantOwned, Base):
    """回访: once a concern is resolved (directly, or with its topic), its resident is asked whether it was solved
    and how satisfied they are; `round` counts the resolutions (a reopened concern is asked again). Answered by
    the resident (`channel` self) or recorded by staff from a phone call (phone)."""

    __tablename__ = "revisit"
    __table_args__ = (_concern_fk(), UniqueConstraint("tenant_id", "concern_id", "round"),
                      Index("ix_revisit_tenant_asked", "tenant_id", "asked_at"),
                      # The rates count a month's answers (core.reporting.rates).
                      Index("ix_revisit_tenant_answered", "tenant_id", "answered_at",
                            sqlite_where=text(ANSWERED), postgresql_where=text(ANSWERED)))

    concern_id: Mapped[uuid.UUID] = mapped_column(GUID)
    round: Mapped[int] = mapped_column(Integer, default=1)
    asked_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str | None] = mapped_column(String(12))  # a key of SATISFACTION
    answered_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    channel: Mapped[str | None] = mapped_column(String(10))  # self | phone
    note: Mapped[str | None] = mapped_column(Text)
