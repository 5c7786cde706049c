"""The outbox (one row per recipient and channel), people's choices, and how far each tenant's event log has been
fanned out to its role holders."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned

# What happens to a row: `pending` waits for a worker; `digest` is an inbox row the recipient's daily digest
# will also carry; `held` waits for quiet hours to end; `sending` has been handed to the provider (its message id
# recorded first); `sent`;
# `failed` gave up after its retries (the dead letters an operator lists and retries); `skipped`: nothing to
# send to (no address, unsubscribed after it was written).
STATUSES = ("pending", "digest", "held", "sending", "sent", "failed", "skipped")


class Notification(TenantOwned, Base):
    """One message for one person (or a tenant's webhook) in one channel, about one event or one period."""

    __tablename__ = "notification"
    __table_args__ = (
        # Once: an event tells a person of one kind of thing once per channel (a retried job, a replayed rule).
        UniqueConstraint("tenant_id", "dedup_key", "channel", "recipient_id"),
        Index("ix_notification_recipient", "recipient_id", "channel", "read_at"),
        Index("ix_notification_tenant_status", "tenant_id", "status"),
    )

    recipient_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(GUID)  # a tenant's webhook instead of a person
    # Where a message to no account goes: the phone a verification code is sent to.
    address: Mapped[str | None] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(48))  # "concern.accepted", "digest", …
    dedup_key: Mapped[str] = mapped_column(String(120))  # the event's id, or the period of a reminder/digest
    event_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))  # a path on the tenant's portal or the public site
    params: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)  # an SMS template's parameters
    status: Mapped[str] = mapped_column(String(10), default="pending")
    deliver_after: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    read_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    digest_id: Mapped[uuid.UUID | None] = mapped_column(GUID)  # the digest that carried it


class NotificationPreference(Base):
    """A person's choice for one kind of message: the channels, or a daily digest instead; in every tenant."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(48))
    channels: Mapped[list[str]] = mapped_column(JsonB, default=list)  # besides the inbox, always on
    digest: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationCursor(TenantOwned, Base):
    """The last event of the tenant's log (its `seq`) whose notices to role holders are written
    (`core.notifications.fanout`); its row lock keeps two workers from fanning out the same events."""

    __tablename__ = "notification_cursor"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    seq: Mapped[int] = mapped_column(Integer, default=0)


class NotificationWebhook(TenantOwned, Base):
    """A URL of a tenant's own (a WeChat Work or DingTalk bot bridge, a district's system) that receives the
    tenant's notifications as signed JSON (`core.notifications.webhooks`)."""

    __tablename__ = "notification_webhook"

    url: Mapped[str] = mapped_column(String(300))
    # Kept as it is, not hashed: every delivery is signed with it. Shown once, when the webhook is created.
    secret: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[list[str]] = mapped_column(JsonB, default=list)  # the kinds it receives; empty: every kind
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(200), default="")


# Once per webhook too. The constraint above cannot say so for a webhook's rows: their recipient is NULL, and a
# NULL is distinct from every other NULL in a unique constraint on SQLite and PostgreSQL alike, so it would let
# any number of copies in. This index compares the webhook instead (partial: people's rows are not in it).
Index("uq_notification_webhook_once", Notification.tenant_id, Notification.webhook_id, Notification.dedup_key,
      Notification.channel, unique=True, sqlite_where=Notification.webhook_id.is_not(None),
      postgresql_where=Notification.webhook_id.is_not(None))
