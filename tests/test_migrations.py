"""Migrations: reversible, and on PostgreSQL they create the app role and grant it exactly DML."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from core.migrate import alembic_config, upgrade
from core.settings import Settings
from tests.conftest import PG_ADMIN_URL, PG_REACHABLE, _admin_execute, _asyncpg_dsn


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/nested/dir/yishi.db")
    upgrade(settings)
    command.downgrade(alembic_config(settings), "base")
    upgrade(settings)
    assert (tmp_path / "nested" / "dir" / "yishi.db").exists()


@pytest.mark.skipif(not PG_REACHABLE, reason="needs the local PostgreSQL server")
def test_migrating_an_empty_postgres_database_creates_the_app_role() -> None:
    suffix = uuid.uuid4().hex[:8]
    database, role = f"yishi_mig_{suffix}", f"yishi_app_{suffix}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{database}"'))
    base = make_url(PG_ADMIN_URL)
    owner_url = base.set(database=database).render_as_string(hide_password=False)
    app_url = base.set(database=database, username=role, password="s3cret'pw").render_as_string(hide_password=False)
    settings = Settings(database_url=app_url, migrations_database_url=owner_url)
    try:
        upgrade(settings)
        command.downgrade(alembic_config(settings), "base")
        upgrade(settings)  # twice: the role exists now, grants are re-applied

        async def inspect() -> tuple:
            conn = await asyncpg.connect(_asyncpg_dsn(owner_url))
            try:
                flags = await conn.fetchrow(
                    "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = $1", role)
                privileges = await conn.fetch(
                    "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
                    " WHERE grantee = $1", role)
                return flags, {(r["table_name"], r["privilege_type"]) for r in privileges}
            finally:
                await conn.close()

        flags, privileges = asyncio.run(inspect())
        assert tuple(flags) == (True, False, False, False)
        assert {p for t, p in privileges if t == "compound"} == {"SELECT", "INSERT", "UPDATE", "DELETE"}
        assert not any(t == "alembic_version" for t, _ in privileges)
        assert not any(p in {"TRUNCATE", "REFERENCES", "TRIGGER"} for _, p in privileges)
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{role}"'))
