"""Tables of accounts: users (platform-wide), role assignments (per tenant) and login throttling."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TenantOwned


class User(Base):
    """A person who signs in. `authz_version` moves on every grant or revoke, so every process reloads;
    `session_version` moves on signing out, and every token issued before stops working."""

    __tablename__ = "user_account"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN", server_default="zh-CN")  # of messages
    password_hash: Mapped[str] = mapped_column(String(200))
    platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    authz_version: Mapped[int] = mapped_column(Integer, default=0)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RoleAssignment(TenantOwned, Base):
    """A user holds a role in a tenant, and thereby in every tenant below it."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))


class LoginThrottle(Base):
    """Failed attempts per key ("user:<name>", "ip:<address>", …), shared by every process; `retry_at` is
    when the key may try again (see `core.throttle.Throttle`)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    retry_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
