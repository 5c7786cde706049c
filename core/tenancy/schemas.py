"""Request and response shapes of the tenant API."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import msgspec


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    slug: str
    name: str
    kind: str
    parent: str | None = None
    plugins: list[str] = msgspec.field(default_factory=list)
    portal: dict[str, Any] = msgspec.field(default_factory=dict)


class TenantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; `plugins` is the whole enabled set."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    plugins: list[str] | msgspec.UnsetType = msgspec.UNSET
    portal: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    slug: str
    name: str
    kind: str
    parent: str | None
    depth: int
    plugins: list[str]
    portal: dict[str, Any]
    archived: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class BuildingOut(msgspec.Struct):
    id: uuid.UUID
    name: str


class CompoundCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    has_property_company: bool = True
    buildings: list[str] = msgspec.field(default_factory=list)


class CompoundOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    has_property_company: bool
    buildings: list[BuildingOut]


class BuildingCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
