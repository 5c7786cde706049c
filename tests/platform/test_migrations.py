"""Migrations: reversible, and on PostgreSQL they create the app role and grant it exactly DML."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from core.app import create_app
from core.cli import main
from core.events import GENESIS, content_digest, link_hash
from core.migrate import alembic_config, upgrade
from core.plugins import Plugins
from core.settings import Settings, get_settings
from tests.conftest import PG_ADMIN_URL, PG_REACHABLE, Auth, _admin_execute, _asyncpg_dsn, http_client, load_world
from tests.helpers import BASE, file

PLUGINS = Plugins()  # the installed plugins: every upgrade runs their branches too


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/nested/dir/yishi.db")
    upgrade(settings, PLUGINS)
    command.downgrade(alembic_config(settings, PLUGINS), "base")
    upgrade(settings, PLUGINS)
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
        upgrade(settings, PLUGINS)
        command.downgrade(alembic_config(settings, PLUGINS), "base")
        upgrade(settings, PLUGINS)  # twice: the role exists now, grants are re-applied

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


def _unkeyed_link(prev: str, seq: int, at: datetime.datetime, content: str) -> str:
    """The link formula of revision 0004: sha256(prev:seq:micros:content)."""
    micros = (at - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) // datetime.timedelta(microseconds=1)
    return hashlib.sha256(f"{prev}:{seq}:{micros}:{content}".encode()).hexdigest()


def _links(path: Path, formula: Callable[[str, int, datetime.datetime, str], str]) -> list[tuple[bool, str]]:
    """Each link of the chain in the database: whether `formula` computes it, and the link itself."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, at, payload, prev_hash, hash, subject_id, tenant_id FROM workflow_event"
                          " ORDER BY seq").fetchall()
        head = db.execute("SELECT hash FROM event_chain_head").fetchone()
    prev, found = GENESIS, []
    for seq, at, payload, prev_hash, link, subject, tenant in rows:
        content = content_digest({"tenant_id": uuid.UUID(bytes=tenant), "subject_kind": "concern",
                                  "subject_id": uuid.UUID(bytes=subject), "topic_id": None, "action": "concern.filed",
                                  "from_state": None, "to_state": "submitted", "actor_id": None,
                                  "payload": json.loads(payload)})
        moment = datetime.datetime.fromisoformat(at).replace(tzinfo=datetime.UTC)
        found.append((prev_hash == prev and link == formula(prev, seq, moment, content), link))
        prev = link
    assert head == (rows[-1][4],)  # the head points at the last link
    return found


def test_0004_relinks_old_chains_under_the_new_formula(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings, PLUGINS), "0003")
    _chain_at_0003(tmp_path / "yishi.db")
    upgrade(settings, PLUGINS, "0004")
    assert [ok for ok, _ in _links(tmp_path / "yishi.db", _unkeyed_link)] == [True, True]


def test_0004_refuses_to_relink_a_chain_that_was_already_broken(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings, PLUGINS), "0003")
    _chain_at_0003(tmp_path / "yishi.db", break_it=True)
    with pytest.raises(RuntimeError, match="broken at seq 2"):
        upgrade(settings, PLUGINS)


def _chain_at_0004(tmp_path: Path, key: str = "k" * 32) -> Settings:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db", audit_key=key)
    command.upgrade(alembic_config(settings, PLUGINS), "0003")
    _chain_at_0003(tmp_path / "yishi.db")
    upgrade(settings, PLUGINS, "0004")
    return settings


def test_0005_relinks_verified_chains_with_the_audit_key_and_back(tmp_path: Path) -> None:
    settings = _chain_at_0004(tmp_path)
    unkeyed = _links(tmp_path / "yishi.db", _unkeyed_link)
    upgrade(settings, PLUGINS)
    keyed = partial(link_hash, settings.audit_key.encode())
    assert [ok for ok, _ in _links(tmp_path / "yishi.db", keyed)] == [True, True]
    assert [ok for ok, _ in _links(tmp_path / "yishi.db", _unkeyed_link)] == [False, False]
    command.downgrade(alembic_config(settings, PLUGINS), "0004")
    assert _links(tmp_path / "yishi.db", _unkeyed_link) == unkeyed


def test_0005_refuses_to_relink_an_edited_chain(tmp_path: Path) -> None:
    settings = _chain_at_0004(tmp_path)
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        db.execute("UPDATE workflow_event SET payload = '{\"n\": 99}' WHERE seq = 1")
    with pytest.raises(RuntimeError, match="broken at seq 1"):
        upgrade(settings, PLUGINS)


def test_0005_refuses_to_relink_a_chain_whose_newest_event_was_deleted(tmp_path: Path) -> None:
    settings = _chain_at_0004(tmp_path)
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        db.execute("DELETE FROM workflow_event WHERE seq = 2")
    with pytest.raises(RuntimeError, match="broken at seq 2"):
        upgrade(settings, PLUGINS)


@pytest.mark.skipif(not PG_REACHABLE, reason="needs the local PostgreSQL server")
def test_0005_relinks_and_refuses_on_postgres() -> None:
    """The same on PostgreSQL, where the events' rows sit behind Row-Level Security: a verified chain is
    re-linked under the key (and back), one whose newest event was deleted stops the upgrade."""
    database = f"yishi_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{database}"'))
    url = make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    settings = Settings(database_url=url, audit_key="k" * 32)
    tenant, subjects = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    moments = [datetime.datetime(2026, 1, seq, 8, 30, 0, 123456, tzinfo=datetime.UTC) for seq in (1, 2)]

    def content(seq: int) -> str:
        return content_digest({"tenant_id": tenant, "subject_kind": "concern", "subject_id": subjects[seq - 1],
                               "topic_id": None, "action": "concern.filed", "from_state": None,
                               "to_state": "submitted", "actor_id": None, "payload": {"n": seq}})

    async def write_chain() -> list[str]:
        conn = await asyncpg.connect(_asyncpg_dsn(url))
        try:
            now = moments[0]
            await conn.execute("INSERT INTO tenant (id, slug, name, kind, path, plugins, portal, archived, created_at,"
                               " updated_at) VALUES ($1, 'old', '旧社区', 'community', $2, '[]', '{}', false, $3, $3)",
                               tenant, f"/{tenant.hex}/", now)
            prev, links = GENESIS, []
            for seq in (1, 2):
                link = _unkeyed_link(prev, seq, moments[seq - 1], content(seq))
                await conn.execute(
                    "INSERT INTO workflow_event (tenant_id, id, seq, subject_kind, subject_id, action, to_state, at,"
                    " payload, prev_hash, hash, created_at, updated_at) VALUES ($1, $2, $3, 'concern', $4,"
                    " 'concern.filed', 'submitted', $5, $6, $7, $8, $5, $5)",
                    tenant, uuid.uuid4(), seq, subjects[seq - 1], moments[seq - 1], json.dumps({"n": seq}), prev, link)
                links.append(link)
                prev = link
            await conn.execute("INSERT INTO event_chain_head (tenant_id, id, seq, hash, prev_hash, at, created_at,"
                               " updated_at) VALUES ($1, $2, 2, $3, $4, $5, $5, $5)",
                               tenant, uuid.uuid4(), links[1], links[0], moments[1])
            return links
        finally:
            await conn.close()

    try:
        upgrade(settings, PLUGINS, "0004")
        unkeyed = asyncio.run(write_chain())
        upgrade(settings, PLUGINS)
        key = settings.audit_key.encode()
        first = link_hash(key, GENESIS, 1, moments[0], content(1))
        keyed = [first, link_hash(key, first, 2, moments[1], content(2))]
        assert asyncio.run(_fetch(url, "SELECT prev_hash, hash FROM workflow_event ORDER BY seq")) == [
            (GENESIS, keyed[0]), (keyed[0], keyed[1])]
        assert asyncio.run(_fetch(url, "SELECT hash FROM event_chain_head")) == [(keyed[1],)]
        command.downgrade(alembic_config(settings, PLUGINS), "0004")
        assert asyncio.run(_fetch(url, "SELECT hash FROM workflow_event ORDER BY seq")) == [(link,) for link in unkeyed]
        assert asyncio.run(_fetch(url, "SELECT hash, prev_hash FROM event_chain_head")) == [(unkeyed[1], unkeyed[0])]
        asyncio.run(_fetch(url, "DELETE FROM workflow_event WHERE seq = 2"))
        with pytest.raises(RuntimeError, match="broken at seq 2"):
            upgrade(settings, PLUGINS)
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _fetch(url: str, sql: str) -> list[tuple]:
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def test_0006_gives_concerns_filed_before_a_tracking_secret(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings, PLUGINS), "0005")
    tenant, now = uuid.uuid4(), "2026-01-01 00:00:00.000000"
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        db.execute("INSERT INTO tenant (id, slug, name, kind, path, plugins, portal, archived, created_at, updated_at)"
                   " VALUES (?, 'old', '旧社区', 'community', 'old', '[]', '{}', 0, ?, ?)", (tenant.bytes, now, now))
        for number in (1, 2):
            db.execute("INSERT INTO concern (tenant_id, id, reference, title, description, category, channel, status,"
                       " filed_by_id, created_at, updated_at) VALUES (?, ?, ?, '漏水', '漏水', 'drainage', 'portal',"
                       " 'submitted', ?, ?, ?)",
                       (tenant.bytes, uuid.uuid4().bytes, f"OLD-2026-{number:06d}", uuid.uuid4().bytes, now, now))
    upgrade(settings, PLUGINS)
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        rows = db.execute("SELECT tracking_secret, public_summary FROM concern").fetchall()
    assert len(rows) == 2 and all(re.fullmatch(r"[2-9A-HJ-NP-Z]{4}", secret) and summary is None
                                  for secret, summary in rows)


def test_0021_starts_each_tenants_fan_out_at_its_head(tmp_path: Path) -> None:
    """Upgraded, a tenant's staff are not told again of what happened before (its cursor is at its head); a
    tenant with no event yet starts at 0."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db")
    command.upgrade(alembic_config(settings, PLUGINS), "0019")
    old, quiet, now = uuid.uuid4(), uuid.uuid4(), "2026-01-01 00:00:00.000000"
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        for tenant, slug in ((old, "old"), (quiet, "quiet")):
            db.execute("INSERT INTO tenant (id, slug, name, kind, path, plugins, portal, archived, created_at,"
                       " updated_at) VALUES (?, ?, '旧社区', 'community', ?, '[]', '{}', 0, ?, ?)",
                       (tenant.bytes, slug, slug, now, now))
        db.execute("INSERT INTO event_chain_head (tenant_id, id, seq, hash, at, created_at, updated_at)"
                   " VALUES (?, ?, 7, ?, ?, ?, ?)", (old.bytes, uuid.uuid4().bytes, GENESIS, now, now, now))
    upgrade(settings, PLUGINS)
    with sqlite3.connect(tmp_path / "yishi.db") as db:
        cursors = dict(db.execute("SELECT tenant_id, seq FROM notification_cursor").fetchall())
    assert cursors == {old.bytes: 7, quiet.bytes: 0}


@pytest.mark.skipif(not PG_REACHABLE, reason="needs the local PostgreSQL server")
def test_0021_starts_each_tenants_fan_out_at_its_head_on_postgres() -> None:
    """The same on PostgreSQL."""
    database = f"yishi_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{database}"'))
    url = make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    settings = Settings(database_url=url)
    old, quiet, now = uuid.uuid4(), uuid.uuid4(), datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    async def write() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(url))
        try:
            for tenant, slug in ((old, "old"), (quiet, "quiet")):
                await conn.execute("INSERT INTO tenant (id, slug, name, kind, path, plugins, portal, archived,"
                                   " created_at, updated_at) VALUES ($1, $2, '旧社区', 'community', $3, '[]', '{}',"
                                   " false, $4, $4)", tenant, slug, f"/{tenant.hex}/", now)
            await conn.execute("INSERT INTO event_chain_head (tenant_id, id, seq, hash, at, created_at, updated_at)"
                               " VALUES ($1, $2, 7, $3, $4, $4, $4)", old, uuid.uuid4(), GENESIS, now)
        finally:
            await conn.close()

    try:
        upgrade(settings, PLUGINS, "0019")
        asyncio.run(write())
        upgrade(settings, PLUGINS)
        assert sorted(asyncio.run(_fetch(url, "SELECT tenant_id, seq FROM notification_cursor"))) == sorted(
            [(old, 7), (quiet, 0)])
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _a_community_with_a_concern(settings: Settings) -> None:
    app = create_app(settings)
    try:
        await load_world(app)
        async with http_client(app) as client:
            auth = Auth(client)
            await file(client, await auth("resident"))
    finally:
        await app.state.engine.dispose()


async def _figures(settings: Settings) -> dict[str, Any]:
    app = create_app(settings)
    try:
        async with http_client(app) as client:
            answer = await client.get(f"{BASE}/stats", headers=await Auth(client)("cstaff"))
            assert answer.status_code == 200, answer.text
            return answer.json()
    finally:
        await app.state.engine.dispose()


def _upgrading_to_kept_figures_counts_the_figures_there_were(settings: Settings,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(settings, PLUGINS)
    asyncio.run(_a_community_with_a_concern(settings))
    command.downgrade(alembic_config(settings, PLUGINS), "0024")  # as before revision 0025: no kept figures
    for name, value in (("YISHI_DATABASE_URL", settings.database_url),
                        ("YISHI_MIGRATIONS_DATABASE_URL", settings.owner_database_url)):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        migrated = CliRunner().invoke(main, ["migrate"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert migrated.exit_code == 0 and "升级前的数字" in migrated.output, migrated.output
    figures = asyncio.run(_figures(settings))
    assert (figures["own"]["concerns_received"], figures["rollup"]["concerns_received"]) == (1, 1)
    again = CliRunner().invoke(main, ["migrate"], catch_exceptions=False)  # nothing more to count
    assert again.exit_code == 0 and "升级前的数字" not in again.output


def test_upgrading_to_kept_figures_counts_the_figures_there_were(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/yishi.db", password_hash="cheapest")
    _upgrading_to_kept_figures_counts_the_figures_there_were(settings, monkeypatch)


@pytest.mark.skipif(not PG_REACHABLE, reason="needs the local PostgreSQL server")
def test_upgrading_to_kept_figures_counts_the_figures_there_were_on_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    database = f"yishi_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{database}"'))
    url = make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    try:
        _upgrading_to_kept_figures_counts_the_figures_there_were(Settings(database_url=url, password_hash="cheapest"),
                                                                 monkeypatch)
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
