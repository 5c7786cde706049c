"""The event log: one hash-chained event per change, append-only for the app, and `yishi audit verify`."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.conftest import PG_REACHABLE, Auth, DatabaseUnderTest
from tests.test_workflow import topic_at

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
