"""The event log: one keyed, hash-chained event per change, append-only for the app, `yishi audit verify` up to
the chain's head, and signed checkpoints that catch a rewrite even by someone holding the key."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from core.events import GENESIS, EventChainHead, WorkflowEvent, content_digest, link_hash, micros
from core.tenancy.models import Tenant
from tests.conftest import PG_REACHABLE, Auth, DatabaseUnderTest
from tests.helpers import file, topic_at

EVENTS, HEADS = WorkflowEvent.__table__, EventChainHead.__table__

pytestmark = pytest.mark.usefixtures("world")


async def test_verify_passes_then_finds_the_altered_row(client: AsyncClient, auth: Auth, owner_engine: AsyncEngine,
                                                       yishi) -> None:  # noqa: F811
    topic_id, _ = await topic_at(client, auth, "published")
    ok = await asyncio.to_thread(yishi, "audit", "verify", "comm-a")
    assert ok.exit_code == 0, ok.output
    assert "链完整" in ok.output
    async with owner_engine.begin() as conn:
        seq = (await conn.execute(text(
            "SELECT min(seq) FROM workflow_event WHERE action = 'topic.publish'"))).scalar()
        await conn.execute(text("UPDATE workflow_event SET payload = '{\"forged\": true}' WHERE seq = :s"
                                " AND action = 'topic.publish'"), {"s": seq})
    broken = await asyncio.to_thread(yishi, "audit", "verify")
    assert broken.exit_code == 1
    assert f"comm-a: 第 {seq} 条记录" in broken.output and "已被改动" in broken.output
    assert "comm-b:" in broken.output  # every tenant is walked


async def test_verify_of_an_unknown_tenant_is_an_error(yishi) -> None:  # noqa: F811
    result = await asyncio.to_thread(yishi, "audit", "verify", "nowhere")
    assert result.exit_code == 2 and "没有租户" in result.output


@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)
async def test_the_app_role_cannot_edit_or_delete_events(database: DatabaseUnderTest, client: AsyncClient,
                                                         auth: Auth) -> None:
    await topic_at(client, auth, "researching")
    engine = create_async_engine(database.settings.database_url, poolclass=NullPool)
    try:
        for statement in ("UPDATE workflow_event SET action = 'x'", "DELETE FROM workflow_event"):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
    finally:
        await engine.dispose()


def unkeyed_link(prev: str, seq: int, at: datetime.datetime, content: str) -> str:
    """A link as anyone could compute it without the audit key (the formula of revision 0004)."""
    return hashlib.sha256(f"{prev}:{seq}:{micros(at)}:{content}".encode()).hexdigest()


async def chain_of(owner: AsyncEngine, slug: str = "comm-a") -> tuple[uuid.UUID, list[dict[str, Any]]]:
    """A tenant's id and its events, in order, read as the database's owner would."""
    async with owner.connect() as conn:
        tenant_id = (await conn.execute(select(Tenant.__table__.c.id).where(Tenant.__table__.c.slug == slug))).scalar_one()
        rows = (await conn.execute(select(EVENTS).where(EVENTS.c.tenant_id == tenant_id).order_by(EVENTS.c.seq))).mappings()
        return tenant_id, [dict(row) for row in rows]


async def rewrite(owner: AsyncEngine, tenant_id: uuid.UUID, chain: list[dict[str, Any]]) -> None:
    """Store `chain`'s links and point the head at its last, as the owner."""
    async with owner.begin() as conn:
        for event in chain:
            await conn.execute(update(EVENTS).where(EVENTS.c.tenant_id == tenant_id, EVENTS.c.id == event["id"])
                               .values(payload=event["payload"], prev_hash=event["prev_hash"], hash=event["hash"]))
        await conn.execute(update(HEADS).where(HEADS.c.tenant_id == tenant_id).values(
            seq=chain[-1]["seq"], hash=chain[-1]["hash"]))


async def test_verify_reports_the_newest_events_deleted(client: AsyncClient, auth: Auth, owner_engine: AsyncEngine,
                                                        yishi) -> None:  # noqa: F811
    await topic_at(client, auth, "researching")
    tenant_id, chain = await chain_of(owner_engine)
    async with owner_engine.begin() as conn:
        await conn.execute(delete(EVENTS).where(EVENTS.c.tenant_id == tenant_id, EVENTS.c.seq >= len(chain) - 1))
    broken = await asyncio.to_thread(yishi, "audit", "verify", "comm-a")
    assert broken.exit_code == 1, broken.output
    assert (f"comm-a: 第 {len(chain) - 1} 条记录处断链：链尾缺失：链头记到第 {len(chain)} 条，"
            f"现在只到第 {len(chain) - 2} 条") in broken.output


async def test_an_event_forged_with_database_access_alone_fails(client: AsyncClient, auth: Auth,
                                                               owner_engine: AsyncEngine, yishi) -> None:  # noqa: F811
    await topic_at(client, auth, "researching")
    tenant_id, chain = await chain_of(owner_engine)
    last = chain[-1]
    forged = {**last, "id": uuid.uuid4(), "seq": last["seq"] + 1, "action": "concern.filed",
              "payload": {"forged": True}, "prev_hash": last["hash"], "at": last["at"] + datetime.timedelta(seconds=1)}
    forged["hash"] = unkeyed_link(last["hash"], forged["seq"], forged["at"], content_digest(forged))
    async with owner_engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # the forger writes as the app would, the wall's tenant path set
            await conn.execute(text("SELECT set_config('app.tenant_path', (SELECT path FROM tenant WHERE id = :t),"
                                    " true)"), {"t": tenant_id})
        await conn.execute(insert(EVENTS), forged)
        await conn.execute(update(HEADS).where(HEADS.c.tenant_id == tenant_id).values(
            seq=forged["seq"], hash=forged["hash"], at=forged["at"]))
    broken = await asyncio.to_thread(yishi, "audit", "verify", "comm-a")
    assert broken.exit_code == 1, broken.output
    assert f"comm-a: 第 {forged['seq']} 条记录（{forged['id']}）断链" in broken.output and "伪造" in broken.output


async def test_a_checkpoint_proves_nothing_before_it_was_rewritten_even_with_the_key(
        client: AsyncClient, auth: Auth, owner_engine: AsyncEngine, database: DatabaseUnderTest, yishi,  # noqa: F811
        tmp_path: Path) -> None:
    await topic_at(client, auth, "researching")
    path = tmp_path / "checkpoint.json"
    taken = await asyncio.to_thread(yishi, "audit", "checkpoint", "--out", str(path))
    assert taken.exit_code == 0 and "已为" in taken.output, taken.output
    tenant_id, chain = await chain_of(owner_engine)
    heads = {head["slug"]: head for head in json.loads(path.read_text())["tenants"]}
    assert (heads["comm-a"]["seq"], heads["comm-a"]["hash"]) == (len(chain), chain[-1]["hash"])
    assert heads["comm-b"]["seq"] == 0

    await file(client, await auth("resident"))  # the chain goes on after the checkpoint
    since = await asyncio.to_thread(yishi, "audit", "verify", "--since", str(path))
    assert since.exit_code == 0 and "comm-a: " in since.output and "断链" not in since.output, since.output

    # Someone holding the key rewrites the first event and re-links every link after it: alone, it verifies.
    tenant_id, chain = await chain_of(owner_engine)
    chain[0]["payload"] = {"rewritten": True}
    prev = GENESIS
    for event in chain:
        event["prev_hash"] = prev
        event["hash"] = prev = link_hash(database.settings.audit_key.encode(), prev, event["seq"], event["at"],
                                         content_digest(event))
    await rewrite(owner_engine, tenant_id, chain)
    alone = await asyncio.to_thread(yishi, "audit", "verify", "comm-a")
    assert alone.exit_code == 0, alone.output
    caught = await asyncio.to_thread(yishi, "audit", "verify", "comm-a", "--since", str(path))
    assert caught.exit_code == 1, caught.output
    assert f"comm-a: 第 {heads['comm-a']['seq']} 条记录" in caught.output and "与检查点记下的链接不符" in caught.output


async def test_a_checkpoint_catches_a_tail_deleted_with_its_head_moved_back(
        client: AsyncClient, auth: Auth, owner_engine: AsyncEngine, yishi, tmp_path: Path) -> None:  # noqa: F811
    await topic_at(client, auth, "researching")
    path = tmp_path / "checkpoint.json"
    assert (await asyncio.to_thread(yishi, "audit", "checkpoint", "--out", str(path))).exit_code == 0
    tenant_id, chain = await chain_of(owner_engine)
    async with owner_engine.begin() as conn:
        await conn.execute(delete(EVENTS).where(EVENTS.c.tenant_id == tenant_id, EVENTS.c.seq == len(chain)))
    await rewrite(owner_engine, tenant_id, chain[:-1])
    assert (await asyncio.to_thread(yishi, "audit", "verify", "comm-a")).exit_code == 0
    caught = await asyncio.to_thread(yishi, "audit", "verify", "comm-a", "--since", str(path))
    assert caught.exit_code == 1, caught.output
    assert f"链尾缺失：检查点记到第 {len(chain)} 条，现在只到第 {len(chain) - 1} 条" in caught.output


async def test_an_edited_checkpoint_is_refused_and_a_broken_chain_gets_none(
        client: AsyncClient, auth: Auth, owner_engine: AsyncEngine, yishi, tmp_path: Path) -> None:  # noqa: F811
    await topic_at(client, auth, "researching")
    path = tmp_path / "checkpoint.json"
    assert (await asyncio.to_thread(yishi, "audit", "checkpoint", "--out", str(path))).exit_code == 0
    checkpoint = json.loads(path.read_text())
    for head in checkpoint["tenants"]:
        if head["slug"] == "comm-a":
            head["seq"] -= 1
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(checkpoint))
    refused = await asyncio.to_thread(yishi, "audit", "verify", "--since", str(edited))
    assert refused.exit_code == 2 and "检查点的签名不符" in refused.output, refused.output

    async with owner_engine.begin() as conn:
        await conn.execute(text("UPDATE workflow_event SET payload = '{\"forged\": true}' WHERE seq = 1"))
    again = tmp_path / "again.json"
    none = await asyncio.to_thread(yishi, "audit", "checkpoint", "--out", str(again))
    assert none.exit_code == 1 and "未生成检查点" in none.output and "comm-a: 第 1 条记录" in none.output, none.output
    assert not again.exists()


def test_the_audit_key_is_its_own_setting_or_derived_from_the_secret_never_the_secret_itself() -> None:
    from core.settings import Settings

    derived = Settings.from_env({"YISHI_SECRET_KEY": "s" * 40}).audit_key
    assert derived == hmac.new(b"s" * 40, b"yishi-audit-chain", hashlib.sha256).hexdigest() != "s" * 40
    assert Settings(secret_key="s" * 40).audit_key == derived
    assert Settings.from_env({"YISHI_SECRET_KEY": "s" * 40, "YISHI_AUDIT_KEY": "a" * 40}).audit_key == "a" * 40


# Only PostgreSQL computes links in SQL; SQLite files in steps with the Python form.
@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)
async def test_the_sql_form_of_the_keyed_link_agrees_with_the_python_form(session: AsyncSession,
                                                                          database: DatabaseUnderTest) -> None:
    """Filing computes its link in PostgreSQL (`link_hash_sql`, from the key's pads); verify recomputes it in Python."""
    import random

    from sqlalchemy import Integer, String, bindparam

    from core.events import hmac_pads, link_hash_sql

    rng = random.Random(11)
    statement = select(link_hash_sql(bindparam("prev", type_=String), bindparam("seq", type_=Integer),
                                     bindparam("at", type_=HEADS.c.at.type), bindparam("content", type_=String)))
    for _ in range(50):
        key = bytes(rng.randrange(256) for _ in range(rng.choice([16, 32, 64, 65, 100])))
        prev = f"{rng.getrandbits(256):064x}"
        # A content digest is hex; any text (CJK, astral) must still be hashed as its UTF-8 bytes.
        content = rng.choice([f"{rng.getrandbits(256):064x}",
                              "".join(chr(rng.choice([rng.randrange(32, 0xD800), rng.randrange(0xE000, 0x10FFFF)]))
                                      for _ in range(rng.randrange(0, 40)))])
        seq = rng.randrange(1, 2**31 - 1)
        # Before the epoch too (negative microseconds), to the microsecond.
        at = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
            microseconds=rng.randrange(0, 200 * 365 * 86400 * 10**6))
        computed = (await session.execute(statement, {"prev": prev, "seq": seq, "at": at, "content": content,
                                                      **hmac_pads(key)})).scalar()
        assert computed == link_hash(key, prev, seq, at, content)
