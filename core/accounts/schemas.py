"""Request and response shapes of sign-in, the current user and tenant membership."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec

from core.authz.rules import TENANT_ROLES
from core.inputs import Input, cap, one_of


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
    language: str = "zh-CN"


class MeUpdate(Input):
    """What a person changes of themselves; a field left out stays as it is."""

    display_name: Annotated[str, cap(100)] | None = None
    language: Annotated[str, cap(8)] | None = None


class PhoneCodeRequest(Input):
    phone: Annotated[str, cap(20)]
    tenant: Annotated[str, cap(63)] | None = None  # in whose name the code is sent; the first of one's own if left out


class PhoneChange(Input):
    phone: Annotated[str, cap(20)]
    code: Annotated[str, cap(6)]
    password: Annotated[str, cap(128)]


class SignInOut(msgspec.Struct):
    at: datetime.datetime
    method: str
    network: str
    browser: str
    system: str
    user_agent: str


class MemberGrant(Input):
    user: Annotated[str, cap(64)]
    role: Annotated[str, one_of(TENANT_ROLES, 32)]


class MemberOut(msgspec.Struct):
    user: str
    display_name: str
    phone: str | None
    roles: list[str]
    active: bool = True  # False: deactivated (their roles kept, for reactivation to give back)


class MemberUpdate(Input):
    active: bool


class MemberStatusOut(msgspec.Struct):
    user: str
    active: bool
    tenant: str


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


class InvitationCreate(Input):
    role: Annotated[str, one_of(TENANT_ROLES, 32)]
    note: Annotated[str, cap(100)] | None = None  # whom it is for, for the staff's own list
    days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 7


class InvitationOut(msgspec.Struct):
    id: uuid.UUID
    role: str
    note: str | None
    created_by: str
    created_at: datetime.datetime
    expires_at: datetime.datetime


class InvitationCreated(msgspec.Struct):
    id: uuid.UUID
    role: str
    note: str | None
    expires_at: datetime.datetime
    link: str  # shown once: only a hash of its token is kept
    token: str


class InvitationInfo(msgspec.Struct):
    tenant: str
    tenant_name: str
    role: str
    role_name: str
    expires_at: datetime.datetime


class InvitationAccept(Input):
    """A new account's fields; leave them out when signed in (a bearer token): the invitation goes to that account."""

    username: Annotated[str, cap(64)] = ""
    name: Annotated[str, cap(100)] = ""
    password: Annotated[str, cap(128)] = ""


class InvitationAccepted(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    username: str
    tenant: str
    role: str
    new_account: bool
