"""Alembic environment: runs migrations as the owner role, then grants the app role what it needs."""

from __future__ import annotations

import asyncio

from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401  (registers every table on the metadata)
from core.db import Base
from core.migrate import ensure_app_role

config = context.config
# Built by core/migrate.py before Alembic runs this file: loading them imported every plugin's models, so
# their tables are on the metadata too (what autogenerate compares the database with).
plugins = config.attributes["plugins"]
owner_url: str = config.attributes["owner_url"]
app_url: str = config.attributes["app_url"]


def _render_item(kind: str, obj: object, autogen_context) -> str | bool:  # type: ignore[no-untyped-def]
    """Autogenerate writes advanced-alchemy's column types the way our revisions import them."""
    if kind == "type" and isinstance(obj, GUID):
        autogen_context.imports.add("from advanced_alchemy.types import GUID")
        return "GUID(length=16)"
    if kind == "type" and isinstance(obj, DateTimeUTC):
        autogen_context.imports.add("from advanced_alchemy.types import DateTimeUTC")
        return "DateTimeUTC(timezone=True)"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite reflects UUID columns as NUMERIC, so type comparison is only meaningful on PostgreSQL.
        compare_type=connection.dialect.name == "postgresql",
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "postgresql":
        ensure_app_role(connection, app_url)
        connection.commit()


async def _main() -> None:
    engine = create_async_engine(owner_url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


asyncio.run(_main())
