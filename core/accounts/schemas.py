"""Request and response shapes of sign-in, the current user and tenant membership."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec

from core.inputs import Input, cap


class TokenRequest(Input):
    username: Annotated[str, cap(64)]
    password: Annotated[str, cap(128)]


class TokenOut(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int


class TenantRoles(msgspec.Struct):
    tenant: str
    tenant_name: str
    kind: str
    roles: list[str]


class MeOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    display_name: str
    phone: str | None
    platform_admin: bool
    tenants: list[TenantRoles]


class MemberGrant(Input):
    user: Annotated[str, cap(64)]
    role: Annotated[str, cap(32)]


class MemberOut(msgspec.Struct):
    user: str
    display_name: str
    phone: str | None
    roles: list[str]


class MemberRoleOut(msgspec.Struct):
    user: str
    role: str
    tenant: str


class ResidentOut(msgspec.Struct):
    """A resident of the community and where they live, as they said or staff corrected it; `confirmed` once
    staff confirmed it. The phone is masked unless the reader's role may read it (then the read is logged)."""

    user_id: uuid.UUID
    user: str
    display_name: str
    phone: str | None
    compound: uuid.UUID | None
    compound_name: str | None
    building: uuid.UUID | None
    building_name: str | None
    confirmed: bool
    confirmed_at: datetime.datetime | None


class ResidenceConfirm(Input):
    """Confirm where a resident lives; a compound or building given corrects it first (a building implies its
    compound)."""

    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None


class CodeRequest(Input):
    phone: Annotated[str, cap(20)]
    purpose: Annotated[str, cap(16)] = "join"


class CodeSent(msgspec.Struct):
    message: str
    expires_in: int


class PrivacyOut(msgspec.Struct):
    tenant: str
    tenant_name: str
    version: str
    text: str


class JoinRequest(Input):
    phone: Annotated[str, cap(20)]
    code: Annotated[str, cap(6)]
    name: Annotated[str, cap(100)]
    password: Annotated[str, cap(128)]
    privacy_version: Annotated[str, cap(32)]
    accept_privacy: bool = False
    sms_consent: bool = False
    compound: uuid.UUID | None = None
    building: uuid.UUID | None = None


class JoinedOut(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    username: str
    tenant: str
    existing_account: bool


class CodeSignIn(Input):
    phone: Annotated[str, cap(20)]
    code: Annotated[str, cap(6)]


class PasswordReset(Input):
    phone: Annotated[str, cap(20)]
    code: Annotated[str, cap(6)]
    password: Annotated[str, cap(128)]


class PasswordChange(Input):
    old_password: Annotated[str, cap(128)]
    new_password: Annotated[str, cap(128)]


class EraseRequest(Input):
    password: Annotated[str, cap(128)]
    confirm: bool = False


class PhoneReadOut(msgspec.Struct):
    at: datetime.datetime
    tenant: str
    viewer: str
    route: str
    subject_kind: str
    subjects: list[str]
