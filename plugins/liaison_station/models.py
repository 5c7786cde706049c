"""Tables of the liaison station: stations, receptions, and the deputies' duty-list items."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned

STATION_KINDS = {"courtyard": "庭院联络站", "building_head": "楼头议事会", "corner_pavilion": "转角议事亭"}
DUTY_STATES = {
    "received": "已接收",
    "researching": "调研中",
    "in_consultation": "协商中",
    "referred": "已交办部门",
    "supervising": "督办中",
    "closed": "已办结",
}


class Station(TenantOwned, Base):
    """A place deputies receive residents, with its reception schedule."""

    __tablename__ = "liaison_station"

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(200), default="")
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)


class Reception(TenantOwned, Base):
    """接待: a deputy received residents at a station."""

    __tablename__ = "liaison_reception"

    station_id: Mapped[uuid.UUID] = mapped_column(GUID)
    deputy_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    held_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    residents_received: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")


class DutyItem(TenantOwned, Base):
    """履职清单 item: one request a deputy took on, followed to the end."""

    __tablename__ = "duty_item"
    __table_args__ = (Index("ix_duty_item_tenant_deputy", "tenant_id", "deputy_id"),
                      Index("ix_duty_item_tenant_topic", "tenant_id", "topic_id"),
                      Index("ix_duty_item_tenant_concern", "tenant_id", "concern_id"))

    deputy_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    reception_id: Mapped[uuid.UUID] = mapped_column(GUID)
    # The concern it filed; None for a request the deputy took on alone (its own title, description, visitor).
    concern_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    title: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    visitor_name: Mapped[str | None] = mapped_column(String(50))
    visitor_phone: Mapped[str | None] = mapped_column(String(20))  # personal data: shown masked, never in public
    topic_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    state: Mapped[str] = mapped_column(String(20), default="received")
    notes: Mapped[list[dict[str, str]]] = mapped_column(JsonB, default=list)
    feedback_score: Mapped[int | None] = mapped_column(Integer)
    feedback_text: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
