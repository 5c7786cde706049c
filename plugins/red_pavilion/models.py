"""Tables of the red pavilion: venues (with their monthly series) and the deliberation sessions held there."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned

SESSION_KINDS = {"monthly": "每月一议事", "on_demand": "有事来商量"}


class Venue(TenantOwned, Base):
    """议事场所 (红色议事亭, 党群温馨庭院, 八宝茶睦邻议事厅 …) and the Party committee that convenes there.

    `monthly_day`/`monthly_time` set, the venue holds "每月一议事" on that day of every month.
    """

    __tablename__ = "pavilion_venue"

    name: Mapped[str] = mapped_column(String(100))
    party_committee: Mapped[str] = mapped_column(String(100))
    place: Mapped[str] = mapped_column(String(200), default="")
    monthly_day: Mapped[int | None] = mapped_column(Integer)
    monthly_time: Mapped[str | None] = mapped_column(String(5))


class PavilionSession(TenantOwned, Base):
    """One deliberation at a venue: planned ahead, then held, with the Party members who took part."""

    __tablename__ = "pavilion_session"
    __table_args__ = (Index("ix_pavilion_session_tenant_venue_at", "tenant_id", "venue_id", "scheduled_for"),)

    venue_id: Mapped[uuid.UUID] = mapped_column(GUID)
    kind: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    state: Mapped[str] = mapped_column(String(10), default="planned")
    agenda: Mapped[list[str]] = mapped_column(JsonB, default=list)  # concern ids, frozen when held
    topics: Mapped[list[str]] = mapped_column(JsonB, default=list)
    party_members: Mapped[list[str]] = mapped_column(JsonB, default=list)  # usernames who took part
    notes: Mapped[str] = mapped_column(Text, default="")
    held_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
