"""Tables of the tenant tree: tenants (platform-wide), compounds and buildings (tenant-owned)."""

from __future__ import annotations

import uuid
from typing import Any

from advanced_alchemy.types import GUID
from sqlalchemy import Boolean, ColumnElement, ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned

TENANT_KINDS = ("city", "district", "street", "town", "community")
KIND_NAMES = {"city": "市", "district": "区/县", "street": "街道", "town": "镇", "community": "社区"}
# Which kind may sit under which; None means "may be a root" (only a platform administrator creates one).
ALLOWED_PARENT_KINDS: dict[str, set[str | None]] = {
    "city": {None},
    "district": {"city", None},
    "street": {"district"},
    "town": {"district"},
    "community": {"street", "town"},
}


class Tenant(Base):
    """租户: one node of the tree. `path` lists the ids from the root down, for subtree reads."""

    __tablename__ = "tenant"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("tenant.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True)
    plugins: Mapped[list[str]] = mapped_column(JsonB, default=list)
    portal: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def ancestor_ids(self) -> list[uuid.UUID]:
        """Ids from the root down to this tenant, itself included."""
        return [uuid.UUID(part) for part in self.path.strip("/").split("/")]


def tenant_path(parent_path: str | None, tenant_id: uuid.UUID) -> str:
    return f"{parent_path or '/'}{tenant_id.hex}/"


def live_communities_below(tenant: Tenant) -> ColumnElement[bool]:
    """The communities of `tenant`'s subtree (itself, if it is one) that are not archived: where concerns are
    filed and figures ranked."""
    return Tenant.path.startswith(tenant.path) & (Tenant.kind == "community") & Tenant.archived.is_(False)


class Compound(TenantOwned, Base):
    """小区: a residential compound of a community. An archived one is offered to nobody any more, and still
    names what was filed or said about it."""

    __tablename__ = "compound"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    has_property_company: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class Building(TenantOwned, Base):
    """楼栋: a building in a compound; the composite key keeps it in its compound's tenant."""

    __tablename__ = "building"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "compound_id"], ["compound.tenant_id", "compound.id"]),
        UniqueConstraint("tenant_id", "compound_id", "name"),
    )

    compound_id: Mapped[uuid.UUID] = mapped_column(GUID)
    name: Mapped[str] = mapped_column(String(50))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
