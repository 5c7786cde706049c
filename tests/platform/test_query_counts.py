"""No list endpoint's query count grows with its page size (no N+1); filing is one statement on PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import event

from tests.conftest import PG_REACHABLE, Auth, DatabaseUnderTest
from tests.helpers import BASE, file, sign_in, topic_at

pytestmark = pytest.mark.usefixtures("world")


@contextmanager
def counting(app: Litestar):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def queries_for(client: AsyncClient, app: Litestar, url: str, headers: dict) -> int:
    await client.get(url, headers=headers)  # warm: grants cached, as on every request but the first
    with counting(app) as statements:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


async def test_concern_list_queries_do_not_grow_with_the_page(client: AsyncClient, app: Litestar, auth: Auth) -> None:
    staff = await auth("cstaff")
    for _ in range(2):
        await file(client, await auth("grid"), {"resident_name": "某居民", "resident_phone": "13800000000"})
    small = await queries_for(client, app, f"{BASE}/concerns?limit=2", staff)
    for _ in range(12):
        await file(client, await auth("resident"))
    large = await queries_for(client, app, f"{BASE}/concerns?limit=14", staff)
    assert small == large


async def test_a_concern_page_comes_with_its_total_and_filers_in_one_query(client: AsyncClient, app: Litestar,
                                                                           auth: Auth) -> None:
    """The page, how many match in all, and who filed each: one statement (no count of its own, no names
    looked up after); a page past the last still says how many there are."""
    staff = await auth("cstaff")
    for _ in range(3):
        await file(client, await auth("resident"))
    await client.get(f"{BASE}/concerns?limit=2", headers=staff)
    with counting(app) as statements:
        page = (await client.get(f"{BASE}/concerns?limit=2", headers=staff)).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["items"][0]["filed_by"] == "resident"
    concern_reads = [s for s in statements if "FROM concern" in s]
    assert len(concern_reads) == 1 and "count(*) OVER ()" in concern_reads[0]
    assert not [s for s in statements if "FROM user_account" in s and "JOIN" not in s]
    beyond = (await client.get(f"{BASE}/concerns?limit=2&offset=10", headers=staff)).json()
    assert beyond["total"] == 3 and beyond["items"] == []
    mine = (await client.get(f"{BASE}/concerns?limit=2&offset=10&status=rejected", headers=staff)).json()
    assert mine["total"] == 0


async def test_topic_and_action_lists_do_not_grow_with_the_page(client: AsyncClient, app: Litestar,
                                                              auth: Auth) -> None:
    staff = await auth("cstaff")
    await topic_at(client, auth, "executing")
    counts = []
    for _ in range(2):
        counts.append((
            await queries_for(client, app, f"{BASE}/topics", staff),
            await queries_for(client, app, f"{BASE}/actions", staff),
            await queries_for(client, app, f"{BASE}/public/results", {}),
        ))
        await topic_at(client, auth, "executing")
        await topic_at(client, auth, "published")
    assert counts[0] == counts[1]


async def test_a_portal_page_enters_its_tenant_once_however_many_actions_it_decides(
        client: AsyncClient, app: Litestar) -> None:
    """The workspace decides a dozen actions (which entries to show); only one of its queries resolves the tenant."""
    await sign_in(client, "comm-a", "cstaff")
    await client.get("/t/comm-a/me")  # warm: grants cached
    with counting(app) as statements:
        page = await client.get("/t/comm-a/me")
    assert page.status_code == 200
    resolving = [s for s in statements if "authz_version" in s and "tenant.slug" in s]  # enter_tenant's query
    assert len(resolving) == 1, resolving


async def test_the_district_dashboard_queries_do_not_grow_with_its_communities(client: AsyncClient, app: Litestar,
                                                                              auth: Auth) -> None:
    """Every community's row comes from the same grouped queries: three more communities add rows, not queries."""
    await file(client, await auth("resident"))
    await sign_in(client, "district-a", "dadmin")

    async def page_queries() -> tuple[int, str]:
        await client.get("/t/district-a/admin")  # warm: grants cached
        with counting(app) as statements:
            page = await client.get("/t/district-a/admin")
        assert page.status_code == 200
        return len(statements), page.text

    before, _ = await page_queries()
    for n in range(3):
        created = await client.post("/api/v1/tenants", headers=await auth("dadmin"), json={
            "slug": f"comm-q{n}", "name": f"新社区{n}", "kind": "community", "parent": "street-a"})
        assert created.status_code == 201, created.text
    after, html = await page_queries()
    assert all(f'data-community="comm-q{n}"' in html for n in range(3))
    assert after == before


# SQLite always files in steps: the one statement is PostgreSQL's, so this runs there only.
@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)
async def test_filing_on_postgresql_is_one_statement_once_the_year_has_begun(client: AsyncClient, app: Litestar,
                                                                           auth: Auth,
                                                                           database: DatabaseUnderTest) -> None:
    """The year's first filing finds no counter: the statement writes nothing and filing takes the steps, which
    open the year. Every later filing is that one statement: the chain's head locked first, then the number,
    the concern, its event and the Idempotency-Key record, and nothing more: the staff are told by the fan-out of
    the event log, after the commit."""
    headers = await auth("resident")
    with counting(app) as statements:
        first = await file(client, headers)
    assert first["reference"].endswith("-000001")
    # The statement (it wrote nothing), then the steps: the counter, the head, the concern with its event.
    assert sum("FOR UPDATE" in s for s in statements) == 1 and sum("INSERT INTO concern " in s for s in statements) == 2
    with counting(app) as statements:
        second = await file(client, headers, **{"Idempotency-Key": "once"})
    assert second["reference"].endswith("-000002")
    [statement] = writes(statements)
    assert not [s for s in statements if "notification" in s]  # neither the staff's addresses read nor a row
    assert statement.index("FOR UPDATE") < statement.index("UPDATE reference_counter")
    assert all(f"INSERT INTO {table} " in statement for table in ("concern", "workflow_event", "idempotency_record"))
    # Values are cast without a length: a value too long is refused by its column, not cut by a cast.
    assert "VARCHAR(" not in statement
    assert (await client.get(f"{BASE}/concerns", headers=headers)).json()["total"] == 2


def writes(statements: list[str]) -> list[str]:
    """What a request wrote: its reads (the tenant, a plugin's) left out."""
    return [s for s in statements if not s.lstrip().startswith("SELECT")]


async def test_me_is_one_query_and_still_shows_a_role_granted_a_moment_ago(client: AsyncClient, app: Litestar,
                                                                           auth: Auth) -> None:
    headers = await auth("cstaff")

    async def me_queries() -> list[str]:
        await client.get("/api/v1/me", headers=headers)  # the grants known to the process
        with counting(app) as statements:
            assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        return [s for s in statements if not s.startswith("BEGIN")]  # SQLite's BEGIN is a statement too

    assert len(await me_queries()) == 1
    granted = await client.post("/api/v1/tenants/comm-a/members", headers=await auth("dadmin"),
                                json={"user": "cstaff", "role": "resident_rep"})
    assert granted.status_code == 201, granted.text
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["tenants"][0]["roles"] == ["community_staff", "resident_rep"]
    assert len(await me_queries()) == 1
