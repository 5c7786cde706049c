"""Migrations: reversible, and on PostgreSQL they create the app role and grant it exactly DML."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import re
import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from core.events import GENESIS, content_digest, link_hash
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


def _old_link(prev: str, fields: dict, seq: int, at: datetime.datetime) -> str:
    """The link formula before revision 0004: sha256(prev + canonical JSON with seq and at)."""
    canonical = json.dumps({**fields, "seq": seq, "at": at.isoformat(timespec="microseconds")}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


def _chain_at_0003(path: Path, break_it: bool = False) -> uuid.UUID:
    """A tenant with a two-event chain written under the old formula, straight into the tables."""
    tenant, now = uuid.uuid4(), "2026-01-01 00:00:00.000000"
    prev = GENESIS
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO tenant (id, slug, name, kind, path, plugins, portal, archived, created_at, updated_at)"
                   " VALUES (?, 'old', '旧社区', 'community', 'old', '[]', '{}', 0, ?, ?)", (tenant.bytes, now, now))
        for seq in (1, 2):
            at = datetime.datetime(2026, 1, seq, 8, 30, 0, 123456, tzinfo=datetime.UTC)
            subject = uuid.uuid4()
            fields = {"tenant_id": str(tenant), "subject_kind": "concern", "subject_id": str(subject), "topic_id": None,
                      "action": "concern.filed", "from": None, "to": "submitted", "actor_id": None,
                      "payload": {"n": seq}}
            link = _old_link(prev, fields, seq, at)
            stored = "0" * 64 if break_it and seq == 2 else link
            db.execute(
                "INSERT INTO workflow_event (tenant_id, id, seq, subject_kind, subject_id, action, to_state, at, payload,"
                " prev_hash, hash, created_at, updated_at) VALUES (?, ?, ?, 'concern', ?, 'concern.filed', 'submitted',"
                " ?, ?, ?, ?, ?, ?)",
                (tenant.bytes, uuid.uuid4().bytes, seq, subject.bytes, at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                 json.dumps({"n": seq}), prev, stored, now, now))
            prev = link
        db.execute("INSERT INTO event_chain_head (tenant_id, id, seq, hash, at, created_at, updated_at)"
                   " VALUES (?, ?, 2, ?, ?, ?, ?)", (tenant.bytes, uuid.uuid4().bytes, prev, now, now, now))
    return tenant


def test_0004_relinks_old_chains_under_the_new_formula(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings), "0003")
    _chain_at_0003(tmp_path / "yishi.db")
    upgrade(settings)
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        rows = db.execute("SELECT seq, at, payload, prev_hash, hash, subject_id, tenant_id FROM workflow_event"
                          " ORDER BY seq").fetchall()
        head = db.execute("SELECT hash, prev_hash FROM event_chain_head").fetchone()
    prev = GENESIS
    for seq, at, payload, prev_hash, link, subject, tenant in rows:
        content = content_digest({"tenant_id": uuid.UUID(bytes=tenant), "subject_kind": "concern",
                                  "subject_id": uuid.UUID(bytes=subject), "topic_id": None, "action": "concern.filed",
                                  "from_state": None, "to_state": "submitted", "actor_id": None,
                                  "payload": json.loads(payload)})
        moment = datetime.datetime.fromisoformat(at).replace(tzinfo=datetime.UTC)
        assert prev_hash == prev and link == link_hash(prev, seq, moment, content)
        prev = link
    assert head == (rows[-1][4], rows[-1][3])  # the head points at the last link and remembers the one before


def test_0004_refuses_to_relink_a_chain_that_was_already_broken(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings), "0003")
    _chain_at_0003(tmp_path / "yishi.db", break_it=True)
    with pytest.raises(RuntimeError, match="broken at seq 2"):
        upgrade(settings)


def test_0006_gives_concerns_filed_before_a_tracking_secret(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings), "0005")
    tenant, now = uuid.uuid4(), "2026-01-01 00:00:00.000000"
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        db.execute("INSERT INTO tenant (id, slug, name, kind, path, plugins, portal, archived, created_at, updated_at)"
                   " VALUES (?, 'old', '旧社区', 'community', 'old', '[]', '{}', 0, ?, ?)", (tenant.bytes, now, now))
        for number in (1, 2):
            db.execute("INSERT INTO concern (tenant_id, id, reference, title, description, category, channel, status,"
                       " filed_by_id, created_at, updated_at) VALUES (?, ?, ?, '漏水', '漏水', 'drainage', 'portal',"
                       " 'submitted', ?, ?, ?)",
                       (tenant.bytes, uuid.uuid4().bytes, f"OLD-2026-{number:06d}", uuid.uuid4().bytes, now, now))
    upgrade(settings)
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        rows = db.execute("SELECT tracking_secret, public_summary FROM concern").fetchall()
    assert len(rows) == 2 and all(re.fullmatch(r"[2-9A-HJ-NP-Z]{4}", secret) and summary is None
                                  for secret, summary in rows)
