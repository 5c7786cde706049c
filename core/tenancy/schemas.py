"""Request and response shapes of the tenant API."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec

from core.inputs import Input, cap


class TenantCreate(Input):
    slug: Annotated[str, cap(63)]
    name: Annotated[str, cap(100)]
    kind: Annotated[str, cap(16)]
    parent: Annotated[str, cap(63)] | None = None
    plugins: list[Annotated[str, cap(63)]] = msgspec.field(default_factory=list)
    portal: dict[str, Any] = msgspec.field(default_factory=dict)


class TenantUpdate(Input):
    """Only the fields present change; `plugins` is the whole enabled set."""

    name: Annotated[str, cap(100)] | msgspec.UnsetType = msgspec.UNSET
    plugins: list[Annotated[str, cap(63)]] | msgspec.UnsetType = msgspec.UNSET
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
    archived: bool = False


class CompoundCreate(Input):
    name: Annotated[str, cap(100)]
    has_property_company: bool = True
    buildings: list[Annotated[str, cap(50)]] = msgspec.field(default_factory=list)


class CompoundOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    has_property_company: bool
    buildings: list[BuildingOut]
    archived: bool = False


class CompoundUpdate(Input):
    """Only the fields present change. An archived compound is offered to nobody (joining, filing, the QR
    codes); what already names it keeps its name."""

    name: Annotated[str, cap(100)] | msgspec.UnsetType = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET


class BuildingCreate(Input):
    name: Annotated[str, cap(50)]


class BuildingUpdate(Input):
    """Only the fields present change; an archived building is offered to nobody, as an archived compound."""

    name: Annotated[str, cap(50)] | msgspec.UnsetType = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET
