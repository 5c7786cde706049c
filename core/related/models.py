"""Tables of related concerns: the similarity index kept on write, and the residents who joined a concern (附议)."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned


@Base.registry.mapped
class ConcernBand(TenantOwned):
    """One MinHash value of a concern's text (core.related.sketch): concerns sharing a key are candidates.

    Only what a lookup needs, all in the primary key — tenant, key, then the newest first — so finding a key's
    latest concerns is one range of one index, and each filing writes the fewest bytes (no id, no audit times:
    the concern row holds those)."""

    __tablename__ = "concern_band"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    filed_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC, primary_key=True)
    concern_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)


class Supporter(TenantOwned, Base):
    """A resident who joined a concern (附议, "我也遇到了"), or a duplicate's reporter carried over by a merge: they
    follow it and are told what its reporters are told."""

    __tablename__ = "concern_supporter"
    __table_args__ = (UniqueConstraint("tenant_id", "concern_id", "user_id"),
                      Index("ix_concern_supporter_user", "tenant_id", "user_id", "created_at"))  # "我的诉求"

    concern_id: Mapped[uuid.UUID] = mapped_column(GUID)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    # Set when a merge brought them here: undoing that merge takes them off again.
    merged_from_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
