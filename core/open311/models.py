"""Tables of Open311: the client apps a tenant lets file concerns, and what their submissions carried."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Float, ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned


class Open311Client(TenantOwned, Base):
    """A civic app allowed to file residents' concerns in one tenant. Only the SHA-256 of its key is kept.

    The app files under a service account of its own (`user_id`, which cannot sign in), so every concern
    and event it causes names the app that caused it.
    """

    __tablename__ = "open311_client"
    __table_args__ = (UniqueConstraint("tenant_id", "key_hash"),)

    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)


class Open311Request(TenantOwned, Base):
    """What an Open311 submission carried beyond the concern itself: coordinates, address id, media URL."""

    __tablename__ = "open311_request"
    __table_args__ = (
        UniqueConstraint("tenant_id", "concern_id"),
        ForeignKeyConstraint(["tenant_id", "concern_id"], ["concern.tenant_id", "concern.id"]),
        ForeignKeyConstraint(["tenant_id", "client_id"], ["open311_client.tenant_id", "open311_client.id"]),
    )

    concern_id: Mapped[uuid.UUID] = mapped_column(GUID)
    client_id: Mapped[uuid.UUID] = mapped_column(GUID)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    address_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(String(500))
