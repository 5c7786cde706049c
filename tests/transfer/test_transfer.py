"""Moving a whole tenant: `yishi export` and `yishi import` between two installations on the same backend —
row-for-row round trips, the audit chain verified, refusals that write nothing, and the tenant wall."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from click.testing import CliRunner, Result
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core import settings as settings_module
from core.app import create_app
from core.cli import main
from core.db import Base, TenantContext
from core.events import verify_chain
from core.migrate import upgrade
from core.notifications.fanout import fan_out
from core.plugins import Plugins
from core.settings import Settings
from core.tenancy.manifest import Manifest, apply_manifest
from core.tenancy.scope import within
from core.transfer.services import TenantExport, decode, transfer_tables
from tests.conftest import (
    APP_ROLE,
    PASSWORD,
    PG_ADMIN_URL,
    Auth,
    DatabaseUnderTest,
    _admin_execute,
    http_client,
    truncate_all,
)
from tests.helpers import BASE, WATER, file, png, topic_at, upload

pytestmark = pytest.mark.usefixtures("world")
SIBLING = "乙社区的井盖松动"


@dataclass
class Installation:
    settings: Settings
    owner: AsyncEngine  # the owner's connection, to look at every row


def yishi(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    """The `yishi` command against one installation (run it in a thread: it has its own event loop)."""
    env = {"YISHI_DATABASE_URL": settings.database_url, "YISHI_MIGRATIONS_DATABASE_URL": settings.owner_database_url,
           "YISHI_MEDIA_DIR": settings.media_dir, "YISHI_PASSWORD_HASH": "cheapest", **(env or {})}
    settings_module.get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        settings_module.get_settings.cache_clear()


@pytest.fixture(scope="module")
def second_installation(database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Another installation on the same backend: its own migrated database (PostgreSQL: made and dropped here,
    the app connecting as the non-owner role) and its own media folder."""
    media = str(tmp_path_factory.mktemp("media-second"))
    if not database.is_postgres:
        path = tmp_path_factory.mktemp("second") / "second.db"
        settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", password_hash="cheapest", media_dir=media)
        upgrade(settings, Plugins())
        yield settings
        return
    name = f"yishi_second_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    base = make_url(PG_ADMIN_URL)
    settings = Settings(database_url=base.set(database=name, username=APP_ROLE, password=None).render_as_string(False),
                        migrations_database_url=base.set(database=name).render_as_string(False),
                        password_hash="cheapest", media_dir=media)
    try:
        upgrade(settings, Plugins())
        yield settings
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture
async def second(second_installation: Settings) -> AsyncIterator[Installation]:
    owner = create_async_engine(second_installation.owner_database_url, poolclass=NullPool)
    await truncate_all(owner)
    shutil.rmtree(second_installation.media_dir)
    Path(second_installation.media_dir).mkdir()
    yield Installation(second_installation, owner)
    await owner.dispose()


@pytest.fixture
def first(database: DatabaseUnderTest, owner_engine: AsyncEngine) -> Installation:
    return Installation(database.settings, owner_engine)


async def populate(client: AsyncClient, auth: Auth) -> dict[str, Any]:
    """comm-a: a topic through all six steps with a rating, photos, a concern filed for a resident, one escalated,
    an idempotent filing, and the liaison station's plugin rows; comm-b: a concern of its own."""
    topic_id, ids = await topic_at(client, auth, "completed")
    resident, staff = await auth("resident"), await auth("cstaff")
    assert (await client.post(f"{BASE}/topics/{topic_id}/ratings", json={"score": 4}, headers=resident)).status_code == 201
    photo = await upload(client, f"{BASE}/concerns/{ids['concern']}/photos", resident, png(), "roof.png", "image/png")
    assert photo.status_code == 201, photo.text
    await file(client, await auth("grid"), {"channel": "grid_worker", "resident_name": "王秀英",
                                            "resident_phone": "13987654321"})
    await file(client, resident, {"title": "同一次提交"}, **{"Idempotency-Key": "k-1"})
    escalated = await file(client, resident, {"title": "两个社区之间的路"})
    triaged = await client.post(f"{BASE}/concerns/{escalated['id']}/triage", headers=staff,
                                json={"action": "escalate", "reason": "涉及两个社区"})
    assert triaged.status_code == 200, triaged.text
    station = await client.post(f"{BASE}/liaison/stations", headers=staff, json={
        "name": "甲小区庭院联络站", "kind": "courtyard",
        "schedule": [{"deputy": "deputy", "weekday": 2, "start": "09:00", "end": "11:00"}]})
    assert station.status_code == 201, station.text
    reception = await client.post(f"{BASE}/liaison/receptions", headers=await auth("deputy"), json={
        "station": station.json()["id"], "held_at": "2026-07-20T09:30:00+08:00", "residents_received": 3,
        "requests": [{"title": "绿化带里的装修垃圾", "description": "没有物业的小区", "resident_name": "赵大爷"}]})
    assert reception.status_code == 201, reception.text
    sibling = await client.post("/api/v1/tenants/comm-b/concerns", json={**WATER, "title": SIBLING},
                                headers=await auth("bstaff"))
    assert sibling.status_code == 201, sibling.text
    return {"topic": topic_id, "escalated": escalated["id"], "photo": photo.json()["id"], "sibling": sibling.json()["id"]}


async def export(source: Installation, slug: str, tmp_path: Path) -> tuple[Path, TenantExport]:
    path = tmp_path / f"{slug}.json"
    result = await asyncio.to_thread(yishi, source.settings, "export", "--tenant", slug, "--output", str(path))
    assert result.exit_code == 0, result.output
    assert path.stat().st_mode & 0o077 == 0  # the file is secret: its owner's only
    return path, decode(path.read_bytes())


async def rows_of(engine: AsyncEngine, document: TenantExport) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table in `document` that belong to its tenants, as `engine`'s database has them."""
    tenant_ids = [uuid.UUID(str(row[0])) for row in document.tables["tenant"].rows]
    user_ids = [uuid.UUID(str(row[0])) for row in document.tables["user_account"].rows]
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    found = {}
    async with engine.connect() as conn:
        for name in document.tables:
            table = tables[name]
            where = (table.c.id.in_(tenant_ids) if name == "tenant" else table.c.id.in_(user_ids)
                     if name == "user_account" else table.c.tenant_id.in_(tenant_ids))
            rows = (await conn.execute(select(table).where(where).order_by(*table.primary_key.columns))).mappings()
            found[name] = [{k: v for k, v in row.items() if k != "platform_admin"} for row in rows]
    return found


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


async def test_a_city_moves_to_a_fresh_installation_row_for_row(client: AsyncClient, auth: Auth, first: Installation,
                                                              second: Installation, tmp_path: Path) -> None:
    made = await populate(client, auth)
    path, document = await export(first, "city-a", tmp_path)
    assert document.format_version == 2 and document.tenant == "city-a" and document.parent is None
    assert [t.name for t in transfer_tables() if t.name in document.tables] == list(document.tables)  # dependency order
    loaded = await asyncio.to_thread(yishi, second.settings, "import", str(path))
    assert loaded.exit_code == 0, loaded.output
    assert "comm-a: " in loaded.output and "链完整" in loaded.output

    before, after = await rows_of(first.owner, document), await rows_of(second.owner, document)
    for name, rows in before.items():
        assert after[name] == rows, name
        assert len(rows) == len(document.tables[name].rows), name
    for name in ("concern", "topic", "workflow_event", "event_chain_head", "photo", "rating", "idempotency_record",
                 "liaison_station", "liaison_reception", "duty_item", "role_assignment"):
        assert before[name], f"{name} was not exercised"
    assert {r["slug"] for r in after["tenant"]} == {"city-a", "district-a", "street-a", "comm-a", "comm-b", "district-b"}
    for key in document.photos:
        assert (Path(second.settings.media_dir) / key).read_bytes() == (Path(first.settings.media_dir) / key).read_bytes()

    # In the new installation, through the app's own (non-owner) connection: every chain verifies, people sign
    # in with their old passwords, nobody became a platform administrator, and the chain goes on.
    app = create_app(second.settings)
    try:
        async with app.state.sessionmaker() as session:
            for tenant in after["tenant"]:
                async with within(session, TenantContext(tenant["id"], tenant["path"])):
                    checked, broken = await verify_chain(session)
                assert broken is None and checked == sum(1 for e in after["workflow_event"]
                                                         if e["tenant_id"] == tenant["id"]), tenant["slug"]
        async with http_client(app) as moved:
            token = await moved.post("/api/v1/auth/token", json={"username": "resident", "password": PASSWORD})
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            again = await moved.post(f"{BASE}/concerns", json={**WATER, "title": "搬家后的第一条诉求"}, headers=headers)
            assert again.status_code == 201, again.text
            assert (await moved.get(f"{BASE}/concerns/{made['escalated']}", headers=headers)).status_code == 200
            results = (await moved.get(f"{BASE}/public/results")).json()
            assert [r["id"] for r in results["items"]] == [made["topic"]]
            admin = await moved.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
            assert admin.status_code == 401  # referenced by nothing of city-a: not carried over
    finally:
        await app.state.engine.dispose()
    async with second.owner.connect() as conn:
        assert not await conn.scalar(select(func.count()).select_from(Base.metadata.tables["user_account"])
                                     .where(Base.metadata.tables["user_account"].c.platform_admin.is_(True)))
    verified = await asyncio.to_thread(yishi, second.settings, "audit", "verify", "comm-a")
    assert verified.exit_code == 0 and "链完整" in verified.output, verified.output


async def test_an_export_from_before_the_fan_out_tells_the_staff_nothing_again(
        client: AsyncClient, auth: Auth, first: Installation, second: Installation, tmp_path: Path) -> None:
    """An export made before the notification cursor existed has no such table: its events were told where they
    happened, so each imported tenant's cursor starts at its head; what happens after the move is told."""
    await populate(client, auth)
    _, document = await export(first, "city-a", tmp_path)
    del document.tables["notification_cursor"]
    old = tmp_path / "old.json"
    old.write_bytes(msgspec.json.encode(document))
    loaded = await asyncio.to_thread(yishi, second.settings, "import", str(old))
    assert loaded.exit_code == 0, loaded.output
    app = create_app(second.settings)
    try:
        result = await fan_out(app.state)
        assert (result.events, result.told, result.failed_tenants) == (0, 0, 0)
        async with http_client(app) as moved:
            filed = await file(moved, await Auth(moved)("resident"), {"title": "搬家后的第一条诉求"})
        result = await fan_out(app.state)
        assert (result.events, result.told) == (1, 1)
    finally:
        await app.state.engine.dispose()
    async with second.owner.connect() as conn:
        notification = Base.metadata.tables["notification"]
        told = (await conn.execute(select(notification.c.params).where(notification.c.kind == "concern.new"))).all()
    assert [row.params["reference"] for row in told] == [filed["reference"]]


async def test_importing_twice_is_refused_and_writes_nothing(client: AsyncClient, auth: Auth, first: Installation,
                                                           second: Installation, tmp_path: Path) -> None:
    await populate(client, auth)
    path, _ = await export(first, "city-a", tmp_path)
    assert (await asyncio.to_thread(yishi, second.settings, "import", str(path))).exit_code == 0
    for target in (second, first):  # the installation it was just loaded into, and the one it came from
        had, files = await counts(target.owner), sorted(Path(target.settings.media_dir).rglob("*"))
        again = await asyncio.to_thread(yishi, target.settings, "import", str(path))
        assert again.exit_code == 2 and "已有这些租户" in again.output and "comm-a" in again.output, again.output
        assert await counts(target.owner) == had
        assert sorted(Path(target.settings.media_dir).rglob("*")) == files


async def test_an_unknown_format_version_or_a_stranger_file_is_refused(client: AsyncClient, auth: Auth,
                                                                       first: Installation, second: Installation,
                                                                       tmp_path: Path) -> None:
    await populate(client, auth)
    path, document = await export(first, "comm-a", tmp_path)
    future = tmp_path / "future.json"
    future.write_bytes(msgspec.json.encode(msgspec.structs.replace(document, format_version=3)))
    unkeyed = tmp_path / "unkeyed.json"
    unkeyed.write_bytes(msgspec.json.encode(msgspec.structs.replace(document, format_version=1)))
    stranger = tmp_path / "stranger.json"
    stranger.write_text('{"tenants": []}')
    for bad, message in [(future, "不认识导出格式版本 3"), (unkeyed, "导出格式版本 1 的事件链没有密钥"),
                         (stranger, "不是议事租户导出文件")]:
        refused = await asyncio.to_thread(yishi, second.settings, "import", str(bad), "--parent", "nowhere")
        assert refused.exit_code == 2 and message in refused.output, refused.output
    assert not any((await counts(second.owner)).values())


async def test_a_tampered_audit_chain_or_a_photo_key_outside_the_media_folder_is_refused(
        client: AsyncClient, auth: Auth, first: Installation, second: Installation, tmp_path: Path) -> None:
    await populate(client, auth)
    _, document = await export(first, "city-a", tmp_path)
    events = document.tables["workflow_event"]
    payload = events.columns.index("payload")
    events.rows[3][payload] = {**events.rows[3][payload], "reason": "改过的记录"}
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(msgspec.json.encode(document))
    refused = await asyncio.to_thread(yishi, second.settings, "import", str(tampered))
    assert refused.exit_code == 2 and "断链" in refused.output and "记录内容已被改动" in refused.output, refused.output

    _, document = await export(first, "city-a", tmp_path)
    photos = document.tables["photo"]
    key = photos.columns.index("storage_key")
    original = photos.rows[0][key]
    photos.rows[0][key] = "../../escaped.png"
    document.photos["../../escaped.png"] = document.photos.pop(original)
    crafted = tmp_path / "crafted.json"
    crafted.write_bytes(msgspec.json.encode(document))
    refused = await asyncio.to_thread(yishi, second.settings, "import", str(crafted))
    assert refused.exit_code == 2 and "照片存储键不合规" in refused.output, refused.output
    assert not any((await counts(second.owner)).values())
    assert not list(Path(second.settings.media_dir).rglob("*"))
    assert not (Path(second.settings.media_dir).parent.parent / "escaped.png").exists()


async def test_a_file_from_an_installation_with_another_audit_key_is_relinked_once_verified_under_it(
        client: AsyncClient, auth: Auth, first: Installation, second: Installation, tmp_path: Path) -> None:
    await populate(client, auth)
    path, document = await export(first, "city-a", tmp_path)
    own = {"YISHI_AUDIT_KEY": "the-second-installation's-own-key"}
    refused = await asyncio.to_thread(yishi, second.settings, "import", str(path), env=own)
    assert refused.exit_code == 2 and "YISHI_SOURCE_AUDIT_KEY" in refused.output, refused.output
    assert not any((await counts(second.owner)).values())

    events = document.tables["workflow_event"]
    payload = events.columns.index("payload")
    events.rows[3][payload] = {**events.rows[3][payload], "reason": "改过的记录"}
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(msgspec.json.encode(document))
    both = {**own, "YISHI_SOURCE_AUDIT_KEY": first.settings.audit_key}
    refused = await asyncio.to_thread(yishi, second.settings, "import", str(tampered), env=both)
    assert refused.exit_code == 2 and "记录内容已被改动" in refused.output, refused.output
    assert not any((await counts(second.owner)).values())

    loaded = await asyncio.to_thread(yishi, second.settings, "import", str(path), env=both)
    assert loaded.exit_code == 0, loaded.output
    verified = await asyncio.to_thread(yishi, second.settings, "audit", "verify", env=own)
    assert verified.exit_code == 0 and "comm-a: " in verified.output, verified.output
    under_the_old_key = await asyncio.to_thread(yishi, second.settings, "audit", "verify", "comm-a")
    assert under_the_old_key.exit_code == 1, under_the_old_key.output  # re-linked: the source's key no longer fits


async def test_the_export_of_a_community_holds_nothing_of_its_sibling(client: AsyncClient, auth: Auth,
                                                                      first: Installation, tmp_path: Path) -> None:
    made = await populate(client, auth)
    path, document = await export(first, "comm-a", tmp_path)
    raw = path.read_bytes().decode()
    tenants = document.tables["tenant"]
    assert [row[tenants.columns.index("slug")] for row in tenants.rows] == ["comm-a"]
    comm_a = tenants.rows[0][0]
    for name, table in document.tables.items():
        if "tenant_id" in table.columns:
            assert {row[table.columns.index("tenant_id")] for row in table.rows} <= {comm_a}, name
    async with first.owner.connect() as conn:
        tenant = Base.metadata.tables["tenant"]
        comm_b = (await conn.execute(select(tenant.c.id).where(tenant.c.slug == "comm-b"))).scalar_one()
    for secret in (str(comm_b), comm_b.hex, made["sibling"], SIBLING, "bstaff", "乙社区"):
        assert secret not in raw, secret
    users = document.tables["user_account"]
    assert "bstaff" not in {row[users.columns.index("username")] for row in users.rows}
    assert "password_hash" in users.columns  # kept on purpose: sign-in survives the move (the file is secret)


async def test_a_community_moves_under_a_new_street(client: AsyncClient, auth: Auth, first: Installation,
                                                    second: Installation, tmp_path: Path) -> None:
    made = await populate(client, auth)
    figures = (await client.get("/api/v1/tenants/comm-a/stats", headers=await auth("cstaff"),
                                params={"from": "2000-01-01"})).json()["own"]  # kept by the fan-out by now
    assert figures["concerns_received"] > 0
    path, document = await export(first, "comm-a", tmp_path)
    assert document.parent == "street-a"
    app = create_app(second.settings)
    try:
        async with app.state.sessionmaker() as session:
            await apply_manifest(session, msgspec.yaml.decode("""
tenants:
  - {slug: city-x, name: X市, kind: city, children: [{slug: district-x, name: X区, kind: district,
     children: [{slug: street-x, name: X街道, kind: street}]}]}
users:
  - {username: grid, password: another-password}
""".encode(), type=Manifest), app.state.installed_plugins, passwords=app.state.passwords)
            await session.commit()
    finally:
        await app.state.engine.dispose()
    orphan = await asyncio.to_thread(yishi, second.settings, "import", str(path))
    assert orphan.exit_code == 2 and "--parent" in orphan.output, orphan.output
    clash = await asyncio.to_thread(yishi, second.settings, "import", str(path), "--parent", "street-x")
    assert clash.exit_code == 2 and "同名的其他用户：grid" in clash.output, clash.output
    async with second.owner.begin() as conn:
        users = Base.metadata.tables["user_account"]
        await conn.execute(users.update().where(users.c.username == "grid").values(username="grid-x"))
    moved = await asyncio.to_thread(yishi, second.settings, "import", str(path), "--parent", "street-x")
    assert moved.exit_code == 0, moved.output
    async with second.owner.connect() as conn:
        tenant, concern = Base.metadata.tables["tenant"], Base.metadata.tables["concern"]
        street = (await conn.execute(select(tenant).where(tenant.c.slug == "street-x"))).mappings().one()
        community = (await conn.execute(select(tenant).where(tenant.c.slug == "comm-a"))).mappings().one()
        escalated_to = (await conn.execute(select(concern.c.escalated_to_id)
                                           .where(concern.c.id == uuid.UUID(made["escalated"])))).scalar_one()
    assert community["parent_id"] == street["id"] and community["path"] == f"{street['path']}{community['id'].hex}/"
    assert escalated_to == street["id"]  # escalated one level up: to the new street
    async with second.owner.connect() as conn:  # the tenants above take the community into their roll-ups
        tally = Base.metadata.tables["day_tally"]
        rolled_up = dict((await conn.execute(
            select(tenant.c.slug, func.sum(tally.c.concerns_received)).join(tenant, tenant.c.id == tally.c.tenant_id)
            .where(tally.c.subtree, tally.c.month.is_(False)).group_by(tenant.c.slug))).all())
    assert rolled_up == dict.fromkeys(("city-x", "district-x", "street-x", "comm-a"), figures["concerns_received"])


async def test_a_community_is_restored_from_its_backup_in_the_same_installation(
        client: AsyncClient, auth: Auth, first: Installation, tmp_path: Path) -> None:
    made = await populate(client, auth)
    path, document = await export(first, "comm-b", tmp_path)
    before = await rows_of(first.owner, document)
    comm_b = before["tenant"][0]["id"]
    async with first.owner.begin() as conn:  # the community is lost; its users (platform-wide) are not
        for table in reversed(Base.metadata.sorted_tables):
            if "tenant_id" in table.c:
                await conn.execute(table.delete().where(table.c.tenant_id == comm_b))
        await conn.execute(Base.metadata.tables["tenant"].delete().where(Base.metadata.tables["tenant"].c.id == comm_b))
    assert (await client.get(f"/api/v1/tenants/comm-b/concerns/{made['sibling']}",
                             headers=await auth("admin"))).status_code == 404
    restored = await asyncio.to_thread(yishi, first.settings, "import", str(path))  # back under its old street
    assert restored.exit_code == 0, restored.output
    assert "沿用本安装已有 1" in restored.output  # bstaff: the same account, left as it is
    after = await rows_of(first.owner, document)
    bstaff = next(u for u in before["user_account"] if u["username"] == "bstaff")
    moved = next(u for u in after["user_account"] if u["username"] == "bstaff")
    assert moved["authz_version"] == bstaff["authz_version"] + 1  # its grants are reloaded everywhere
    assert {**after, "user_account": []} == {**before, "user_account": []}
    concern = await client.get(f"/api/v1/tenants/comm-b/concerns/{made['sibling']}", headers=await auth("bstaff"))
    assert concern.status_code == 200 and concern.json()["title"] == SIBLING
