"""Tables of concerns: the concern itself, tenant categories, photos and reference counters."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned

CHANNELS = ("portal", "grid_worker", "liaison_station", "pavilion", "phone", "open311", "other")
DEFAULT_CATEGORIES: dict[str, str] = {
    "property_service": "物业服务",
    "environment": "小区环境",
    "public_facilities": "公共设施",
    "neighbour_dispute": "邻里纠纷",
    "noise": "噪声扰民",
    "drainage": "管道堵塞",
    "parking_roads": "停车与道路",
    "heating": "供暖",
    "ev_charging": "电动车充电",
    "safety": "安全隐患",
    "other": "其他",
}
RESPONDED, CLOSED = "responded_at IS NOT NULL", "closed_at IS NOT NULL"
AWAITING_RESPONSE = "responded_at IS NULL AND respond_by IS NOT NULL"
MERGED = "duplicate_of_id IS NOT NULL"
UNMERGE_WITHIN = datetime.timedelta(days=1)  # a merge may be undone until a day after it was made
FILED_BY_PHONE = "filed_by_id IS NULL"  # no account filed it: a code sent to the resident's phone did
# submitted → accepted | rejected | resolved | escalated; accepted → in_topic → completed (with its topic);
# escalated → taken_over | accepted; submitted | accepted → merged (a duplicate of another; undone within the day);
# submitted → withdrawn (by whoever filed it, before staff triage it)
CONCERN_STATES = ("submitted", "accepted", "rejected", "resolved", "escalated", "taken_over", "in_topic", "completed",
                  "merged", "withdrawn")
STATE_NAMES = {
    "submitted": "已提交，待受理",
    "accepted": "已受理",
    "rejected": "未予受理",
    "resolved": "已直接办结",
    "escalated": "已上报上级",
    "taken_over": "上级已接办",
    "in_topic": "已纳入议题协商",
    "completed": "已办结",
    "merged": "已合并办理",
    "withdrawn": "已撤回",
}
# What the filer may still change before staff triage it (core.concerns.corrections).
EDITABLE_STATES = ("submitted",)


class Concern(TenantOwned, Base):
    """诉求: what a resident raised, where, through which channel, and how it was triaged."""

    __tablename__ = "concern"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        # The inbox's and the lists' index (a district's concerns by category are kept figures since 0028).
        Index("ix_concern_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_concern_tenant_escalated_to", "tenant_id", "escalated_to_id"),
        # Concerns filed by phone alone, by the phone: what joining with that phone claims.
        Index("ix_concern_filed_by_phone", "tenant_id", "resident_phone", sqlite_where=text(FILED_BY_PHONE),
              postgresql_where=text(FILED_BY_PHONE)),
        # The time-limit sweep reads only what is due: the open concerns with an alert still to come.
        Index("ix_concern_alert_at", "alert_at", sqlite_where=text("alert_at IS NOT NULL"),
              postgresql_where=text("alert_at IS NOT NULL")),
        # The fan-out recounts a tenant's rates for a day by when concerns fell due, were responded to and were
        # closed (core.reporting.tallies): a range on each; the rates count what is not yet due from the deadlines
        # still ahead (core.reporting.rates): a range of the first and of the awaited responses'.
        Index("ix_concern_tenant_resolve_by", "tenant_id", "resolve_by"),
        Index("ix_concern_tenant_awaiting_response", "tenant_id", "respond_by", sqlite_where=text(AWAITING_RESPONSE),
              postgresql_where=text(AWAITING_RESPONSE)),
        Index("ix_concern_tenant_responded", "tenant_id", "responded_at", sqlite_where=text(RESPONDED),
              postgresql_where=text(RESPONDED)),
        Index("ix_concern_tenant_closed", "tenant_id", "closed_at", sqlite_where=text(CLOSED),
              postgresql_where=text(CLOSED)),
        # The duplicates merged into a concern (core.related.merging): only merged rows are in it.
        Index("ix_concern_tenant_duplicate_of", "tenant_id", "duplicate_of_id", sqlite_where=text(MERGED),
              postgresql_where=text(MERGED)),
    )

    reference: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    # What the public reads instead of the title, once staff write it (until then: the title, redacted).
    public_summary: Mapped[str | None] = mapped_column(String(120))
    # The secret that follows the reference in a tracking code (JSX-2026-000123-7QKM): references are sequential.
    tracking_secret: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    compound_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    building_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    place: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    # None: filed by a resident with no account, who proved their phone by a code (`core.concerns.by_phone`).
    filed_by_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    resident_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    resident_name: Mapped[str | None] = mapped_column(String(50))
    resident_phone: Mapped[str | None] = mapped_column(String(20))
    triage_reason: Mapped[str | None] = mapped_column(Text)
    triage_note: Mapped[str | None] = mapped_column(Text)
    escalated_to_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("tenant.id"))
    instructions: Mapped[str | None] = mapped_column(Text)
    origin_tenant_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    origin_concern_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    topic_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    closed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    # The clock (core.timelimits.clock): fixed at filing from the tenant's time limits, each deadline with the
    # moment it turns yellow and whether it counts working time; `alert_at` is when the sweep next acts on it
    # (null once closed or paused), `alert_stage` what it did last.
    urgency: Mapped[str] = mapped_column(String(10), default="normal", server_default="normal")
    respond_by: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    respond_warn_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    respond_working: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    resolve_by: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    resolve_warn_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    resolve_working: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    responded_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    paused_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    alert_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    alert_stage: Mapped[str | None] = mapped_column(String(20))
    reopened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 重办: times reopened
    # 附议: how many residents joined it ("我也遇到了"), the filer not counted; and, once merged, the concern it
    # is a duplicate of, with the state it had (what undoing the merge restores).
    supporters: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    merged_from: Mapped[str | None] = mapped_column(String(20))
    merged_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)

    @property
    def tracking_code(self) -> str | None:
        return tracking_code(self.reference, self.tracking_secret)


def tracking_code(reference: str, secret: str | None) -> str | None:
    """What the filer keeps to follow a concern without signing in: its reference and its secret."""
    return f"{reference}-{secret}" if secret else None


class ConcernCategory(TenantOwned, Base):
    """A category a tenant adds to the default set."""

    __tablename__ = "concern_category"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(50))


class Photo(TenantOwned, Base):
    """A photo of a concern, a site visit or a progress report, stored under a server-made key."""

    __tablename__ = "photo"
    __table_args__ = (Index("ix_photo_tenant_owner", "tenant_id", "owner_kind", "owner_id"),)

    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(GUID)
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))


class ReferenceCounter(TenantOwned, Base):
    """The last concern number a tenant handed out in a year (JSX-2026-000123)."""

    __tablename__ = "reference_counter"
    __table_args__ = (UniqueConstraint("tenant_id", "year"),)

    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer, default=0)
