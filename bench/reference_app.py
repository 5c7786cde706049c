"""A bench-only Litestar app doing the least a request can: a constant JSON, one SELECT by primary key, or one
single-row INSERT.

It is the yardstick for the real app, served the same way (Granian, same workers, same database and pool
settings). It deliberately imports nothing from `core`: importing `core.db` installs session listeners on
every SQLAlchemy Session (tenant scoping, a set_config per transaction), which the bare SELECT must not pay.
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from uuid_utils.compat import uuid7


class Base(DeclarativeBase):
    """The bench-only tables, on a registry of their own (nothing of core's listeners or metadata)."""


class TenantRow(Base):
    """The `tenant` table as migrated, every column read, so the row costs what the app's Tenant costs."""

    __tablename__ = "tenant"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    slug: Mapped[str]
    name: Mapped[str]
    kind: Mapped[str]
    parent_id: Mapped[uuid.UUID | None]
    path: Mapped[str]
    plugins: Mapped[list[str]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    portal: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    archived: Mapped[bool]
    created_at: Mapped[datetime.datetime]
    updated_at: Mapped[datetime.datetime]


class BareRow(Base):
    """A concern-shaped row in a bench-only table (bench/seed.py makes it): its primary key and nothing else —
    no other index, no foreign key, no Row-Level Security — so inserting it is the least a filing can cost."""

    __tablename__ = "bench_bare_insert"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str]
    title: Mapped[str]
    description: Mapped[str]
    category: Mapped[str]
    channel: Mapped[str]
    status: Mapped[str]
    filed_by_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class BareConcern(msgspec.Struct):
    """The body the app's filing takes, decoded (and checked for types) the same way."""

    title: str
    description: str
    category: str
    channel: str = "portal"


NOBODY = uuid.UUID(int=0)  # the bare app signs nobody in


@get("/const")
async def const() -> dict[str, str]:
    return {"status": "ok"}


@get("/tenants/{tenant_id:uuid}")
async def select_by_pk(state: State, tenant_id: uuid.UUID) -> dict[str, Any]:
    # One transaction per request, committed, as the app's provide_db_session does.
    async with state.sessionmaker.begin() as session:
        tenant = await session.get(TenantRow, tenant_id)
        if tenant is None:
            raise NotFoundException()
        return {
            "id": tenant.id, "slug": tenant.slug, "name": tenant.name, "kind": tenant.kind,
            "parent_id": tenant.parent_id, "path": tenant.path, "plugins": tenant.plugins,
            "portal": tenant.portal, "archived": tenant.archived,
            "created_at": tenant.created_at, "updated_at": tenant.updated_at,
        }


@post("/tenants/{tenant_id:uuid}/concerns", status_code=201)
async def bare_insert(state: State, tenant_id: uuid.UUID, data: BareConcern) -> dict[str, Any]:
    # One transaction per request, committed before the answer, as the app's filing is.
    row_id = uuid.UUID(bytes=uuid7().bytes)
    now = datetime.datetime.now(datetime.UTC)
    async with state.sessionmaker.begin() as session:
        session.add(BareRow(tenant_id=tenant_id, id=row_id, reference=f"B-{row_id.hex[-12:]}", title=data.title,
                            description=data.description, category=data.category, channel=data.channel,
                            status="submitted", filed_by_id=NOBODY, created_at=now, updated_at=now))
    return {"id": row_id, "reference": f"B-{row_id.hex[-12:]}", "status": "submitted"}


def create_app() -> Litestar:
    # The same URL and pool settings as core.settings / core.db.create_engine give the real app on PostgreSQL.
    pool_size = int(os.environ.get("YISHI_DB_POOL_SIZE", "10"))
    engine = create_async_engine(os.environ["YISHI_DATABASE_URL"], pool_size=pool_size, max_overflow=pool_size)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(
        route_handlers=[const, select_by_pk, bare_insert],
        lifespan=[lifespan],
        state=State({"sessionmaker": async_sessionmaker(engine, expire_on_commit=False, autoflush=False)}),
    )
