"""Tables of accounts: users (platform-wide) and their recent sign-ins, role assignments (per tenant), login
throttling, the codes that prove a phone, what a resident agreed to and where they live, and the links that
invite someone to a role (per tenant)."""

from __future__ import annotations

import datetime
import uuid

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned


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
    # Set once a code sent to `phone` came back: then the number signs in, and no other account may verify it.
    phone_verified_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    # An account someone else created (staff, an invitation) must choose its own password at first sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


# One account per verified phone number (an unverified number, typed by staff, may repeat).
Index("uq_user_verified_phone", User.phone, unique=True, sqlite_where=User.phone_verified_at.is_not(None),
      postgresql_where=User.phone_verified_at.is_not(None))


class SignIn(Base):
    """One successful sign-in of a user, for their own "recent sign-ins" (`core.accounts.my_account`): how, from
    which network (the address truncated) and which browser. Platform-wide like the account; the last
    `KEPT_SIGN_INS` per user are kept."""

    __tablename__ = "sign_in"
    __table_args__ = (Index("ix_sign_in_user", "user_id", "at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    method: Mapped[str] = mapped_column(String(16))  # password, code, join
    client: Mapped[str] = mapped_column(String(64))  # 203.0.113.0/24, 2001:db8:1::/48
    user_agent: Mapped[str] = mapped_column(String(200))


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


class VerificationCode(Base):
    """A code sent to a phone for one purpose (`core.accounts.verification`): kept as an HMAC, never as typed;
    `used_at` is set when it is spent, replaced by a newer one, or tried wrongly too often. Platform-wide, like
    the accounts it proves (so not a tenant's row); `asked_in_id` says whose page asked for it, `client` from where
    (for throttling)."""

    __tablename__ = "verification_code"
    __table_args__ = (Index("ix_verification_code_phone", "phone", "purpose", "created_at"),
                      Index("ix_verification_code_client", "client", "created_at"))

    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    asked_in_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("tenant.id"))
    client: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    used_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    tries: Mapped[int] = mapped_column(Integer, default=0)


class Consent(TenantOwned, Base):
    """What a person agreed to in a tenant, as the Personal Information Protection Law asks: the tenant's privacy
    notice (`privacy`, with the version they read) and, separately, SMS notices (`sms`). A withdrawal is a new
    row with `granted` false: the history is kept."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_user", "user_id", "kind"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)


class Residence(TenantOwned, Base):
    """Where a resident of a community lives, as they said when joining; staff may confirm it."""

    __tablename__ = "residence"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    compound_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    building_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    confirmed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    confirmed_by: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))


class PhoneRead(TenantOwned, Base):
    """One request that showed residents' phone numbers unmasked (PIPL: who read whose, when, and why — the
    route), in the tenant whose rows they were; the district admin reads the log of everything below."""

    __tablename__ = "phone_read"
    __table_args__ = (Index("ix_phone_read_at", "tenant_id", "created_at"),)

    viewer_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    route: Mapped[str] = mapped_column(String(200))
    subject_kind: Mapped[str] = mapped_column(String(16))  # "concern" or "user": whose numbers were shown
    subjects: Mapped[list[str]] = mapped_column(JsonB, default=list)  # their ids


class Invitation(TenantOwned, Base):
    """A link that gives whoever opens it first `role` in the tenant (`core.accounts.invitations`): single-use,
    expiring, revocable. Only the SHA-256 of its token is kept, so the table cannot be turned back into links."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("tenant_id", "token_hash"), Index("ix_invitation_pending", "tenant_id", "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(100))  # the staff's own note of whom it is for
    created_by: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("user_account.id"))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    used_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
    used_by: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC)
