"""Tables of time limits: a tenant's own limits per category and urgency, and its working hours and escalation
settings. A null value is not set here: it is inherited from the tenant above (see services.py)."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
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
