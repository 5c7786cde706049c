"""The migrated database is what the models say: a column, index or table added to a model and not to a
revision (or the other way round) fails here, on both backends, before it fails in production."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Base
from core.plugins import Plugins


def _ours(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Not the job engine's own schema (procrastinate's tables, installed by revision 0009 from its own SQL),
    nor alembic's version table, nor the wall's own column (`tenant_path`: PostgreSQL's, like the policies that
    read it, and written by the database, never by the models)."""
    table = parent_names.get("table_name") or (name if type_ == "table" else None)
    if type_ == "column" and name == "tenant_path":
        return False
    return not any("procrastinate" in (n or "") or n == "alembic_version" for n in (name, table))


async def test_every_model_is_migrated_and_nothing_else(owner_engine: AsyncEngine) -> None:
    Plugins()  # the built-in plugins' models are on the metadata, as their revisions are in the database
    # Column types are left out: SQLite reports the UUID and JSON types as their storage types.
    options = {"compare_type": False, "include_name": _ours}
    async with owner_engine.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts=options), Base.metadata))
    assert diffs == []
