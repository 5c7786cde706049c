"""Request and response shapes of sign-in, the current user and tenant membership."""

from __future__ import annotations

import uuid

import msgspec


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str


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


class MemberGrant(msgspec.Struct, forbid_unknown_fields=True):
    user: str
    role: str


class MemberOut(msgspec.Struct):
    user: str
    display_name: str
    phone: str | None
    roles: list[str]


class MemberRoleOut(msgspec.Struct):
    user: str
    role: str
    tenant: str
