"""A bench-only Litestar app doing the least a request can: a constant JSON, or one SELECT by primary key.

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

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


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
        route_handlers=[const, select_by_pk],
        lifespan=[lifespan],
        state=State({"sessionmaker": async_sessionmaker(engine, expire_on_commit=False, autoflush=False)}),
    )
