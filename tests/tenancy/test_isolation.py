"""The two walls between tenants: the application's automatic scoping and PostgreSQL's Row-Level Security."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from core import citus
from core.db import TenantScopeError, tenant_tables
from core.settings import Settings
from core.tenancy.models import Building, Compound, Tenant
from core.tenancy.scope import within
from tests.conftest import PG_REACHABLE, Auth, DatabaseUnderTest
from tests.helpers import file

pytestmark = pytest.mark.usefixtures("world")


async def _tenant(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    assert tenant is not None
    return tenant


async def _compound_id(session: AsyncSession, slug: str) -> uuid.UUID:
    tenant = await _tenant(session, slug)
    async with within(session, tenant):
        compound_id = await session.scalar(select(Compound.id))
    await session.rollback()
    return compound_id


# --- the application wall -------------------------------------------------------------------------------

async def test_queries_see_only_the_current_tenant(session: AsyncSession) -> None:
    a, b = await _tenant(session, "comm-a"), await _tenant(session, "comm-b")
    async with within(session, a):
        assert [c.name for c in (await session.scalars(select(Compound))).all()] == ["甲小区"]
        assert {b.name for b in (await session.scalars(select(Building))).all()} == {"1号楼", "2号楼"}
    async with within(session, b):
        assert [c.name for c in (await session.scalars(select(Compound))).all()] == ["乙小区"]


async def test_subqueries_are_scoped_too(session: AsyncSession) -> None:
    a = await _tenant(session, "comm-a")
    async with within(session, a):
        names = (await session.scalars(
            select(Building.name).where(Building.compound_id.in_(select(Compound.id)))
        )).all()
    assert set(names) == {"1号楼", "2号楼"}


async def test_plain_aggregates_are_scoped_whatever_builds_their_where(session: AsyncSession) -> None:
    # SQLAlchemy finds no model in `select(func.count()).where(and_(...))`: its criteria alone would have
    # counted every tenant's rows on SQLite (the district's /stats had been written that way once).
    a, district_b = await _tenant(session, "comm-a"), await _tenant(session, "district-b")
    named = and_(Compound.name != "", Compound.name.is_not(None))
    either = or_(Compound.name == "甲小区", Compound.name == "乙小区")
    async with within(session, a):
        assert await session.scalar(select(func.count()).where(named)) == 1
        assert (await session.execute(select(func.count(), func.max(Compound.name)).where(either))).one() == (1, "甲小区")
        assert await session.scalar(select(func.count().filter(either))) == 1
    async with within(session, district_b, subtree=True):
        assert await session.scalar(select(func.count()).where(named)) == 0


async def test_a_subquery_the_wall_cannot_see_is_refused_not_read(session: AsyncSession,
                                                                    database: DatabaseUnderTest) -> None:
    a = await _tenant(session, "comm-a")
    unseen = select(func.count()).where(and_(Compound.name != "", Compound.name.is_not(None))).scalar_subquery()
    async with within(session, a):
        if database.is_postgres:  # Row-Level Security walls it
            assert await session.scalar(select(Tenant.slug).where(Tenant.slug == "comm-a", unseen == 1)) == "comm-a"
        else:
            with pytest.raises(TenantScopeError):
                await session.execute(select(Tenant.slug).where(unseen > 0))


async def test_no_tenant_context_fails_closed(session: AsyncSession) -> None:
    a = await _tenant(session, "comm-a")
    async with within(session, a):
        pass  # left again: the session acts in no tenant, as before the block
    with pytest.raises(TenantScopeError):
        await session.execute(select(Compound))
    with pytest.raises(TenantScopeError):
        await session.execute(select(Tenant).where(Tenant.id.in_(select(Compound.tenant_id))))


async def test_writing_into_another_tenant_is_refused(session: AsyncSession) -> None:
    a, b = await _tenant(session, "comm-a"), await _tenant(session, "comm-b")
    async with within(session, a):
        session.add(Compound(tenant_id=b.id, name="越界小区"))
        with pytest.raises(TenantScopeError):
            await session.flush()


async def test_a_subtree_context_reads_below_but_never_sideways(session: AsyncSession) -> None:
    street = await _tenant(session, "street-a")
    async with within(session, street, subtree=True):
        assert {c.name for c in (await session.scalars(select(Compound))).all()} == {"甲小区", "乙小区"}
    district_b = await _tenant(session, "district-b")
    async with within(session, district_b, subtree=True):
        assert (await session.scalars(select(Compound))).all() == []


# --- through HTTP: another tenant's id answers exactly like a missing one -------------------------------------

async def test_another_tenants_compound_is_404_like_a_missing_one(client: AsyncClient, auth: Auth,
                                                                 session: AsyncSession) -> None:
    b_compound = await _compound_id(session, "comm-b")
    headers = await auth("dadmin")  # may read both communities, but only through each one's own path
    own = await client.get(f"/api/v1/tenants/comm-b/compounds/{b_compound}", headers=headers)
    assert own.status_code == 200
    crossed = await client.get(f"/api/v1/tenants/comm-a/compounds/{b_compound}", headers=headers)
    missing = await client.get(f"/api/v1/tenants/comm-a/compounds/{uuid.uuid4()}", headers=headers)
    assert crossed.status_code == missing.status_code == 404
    assert crossed.json() == missing.json()
    add = await client.post(f"/api/v1/tenants/comm-a/compounds/{b_compound}/buildings", json={"name": "X"},
                            headers=headers)
    assert add.status_code == 404
    listed = (await client.get(f"/api/v1/tenants/comm-b/compounds/{b_compound}", headers=headers)).json()
    assert "X" not in {b["name"] for b in listed["buildings"]}


# --- the database wall (PostgreSQL) ----------------------------------------------------------------------

# Row-Level Security is PostgreSQL's (SQLite relies on the application wall alone), so these run there only.
postgres_only = pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)


@pytest.fixture
def postgres(database: DatabaseUnderTest) -> DatabaseUnderTest:
    return database


@postgres_only
async def test_every_tenant_table_has_row_level_security_forced(postgres: DatabaseUnderTest,
                                                              owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        with_tenant_id = set((await conn.execute(text(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        ))).scalars())
        forced = set((await conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity"
            " AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)"
        ))).scalars())
    assert with_tenant_id == set(tenant_tables())
    assert with_tenant_id and with_tenant_id <= forced, with_tenant_id - forced


# Keys as PostgreSQL keeps them: every primary key, unique constraint or index and foreign key, with its columns in
# order and (for a foreign key) the table it points at.
_KEYS = text("""
    SELECT r.relname, 'constraint ' || c.conname, c.contype::text,
           array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
           f.relname
    FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace ns ON ns.oid = r.relnamespace
    LEFT JOIN pg_class f ON f.oid = c.confrelid
    WHERE ns.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
    UNION ALL
    SELECT r.relname, 'index ' || ic.relname, 'u',
           array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), NULL
    FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace ns ON ns.oid = r.relnamespace
    WHERE ns.nspname = 'public' AND i.indisunique AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
""")


@postgres_only
async def test_every_tenant_tables_keys_lead_with_tenant_id_for_citus(postgres: DatabaseUnderTest,
                                                                       owner_engine: AsyncEngine) -> None:
    """Citus distributes tenant tables by `tenant_id`: a primary key or unique key must then contain it (first,
    here, as the tenant's rows are read together), and a foreign key between two tenant tables must carry it so
    that both rows live on the same shard. Keys to shared tables (users, the tenant tree: reference tables) may
    be anything (docs/deploy.md, "Moving to Citus")."""
    tenant = set(tenant_tables())
    async with owner_engine.connect() as conn:
        keys = (await conn.execute(_KEYS)).all()
    checked = [(table, name, kind, columns, target) for table, name, kind, columns, target in keys
               if table in tenant and (kind != "f" or target in tenant)]
    assert {table for table, *_ in checked} == tenant  # every tenant table has keys to check, its primary key first
    wrong = [(table, name, columns) for table, name, _kind, columns, _target in checked if columns[:1] != ["tenant_id"]]
    assert not wrong, wrong


@postgres_only
async def test_the_citus_plan_places_every_table_and_distributes_each_tenant_table_once(
        postgres: DatabaseUnderTest, owner_engine: AsyncEngine) -> None:
    """`yishi citus plan` (core/citus.py) against the migrated database: every table is a reference table, stays on
    the coordinator or is distributed (a new shared table must be placed), each tenant table is distributed once
    after every table its keys point at, and no tenant table points at a table left on the coordinator."""
    async with owner_engine.connect() as conn:
        tables = set((await conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars())
        keys = (await conn.execute(_KEYS)).all()
    assert not [t for t in tables if citus.placement(t) == "unplaced"]
    made = [re.search(r"create_(?:distributed|reference)_table\('([a-z0-9_]+)'", s).group(1)  # type: ignore[union-attr]
            for s in citus.plan()]
    assert sorted(made) == sorted(t for t in tables if citus.placement(t) in ("reference", "distributed"))
    for table, _name, kind, _columns, target in keys:
        if kind == "f" and citus.placement(table) == "distributed":
            assert citus.placement(target) != "local", (table, target)
            assert made.index(target) <= made.index(table), (table, target)  # a table may point at itself


@postgres_only
async def test_the_app_role_owns_nothing_and_cannot_bypass_rls(postgres: DatabaseUnderTest,
                                                              owner_engine: AsyncEngine) -> None:
    role = postgres.settings.database_url.split("//", 1)[1].split("@", 1)[0]
    async with owner_engine.connect() as conn:
        flags = (await conn.execute(text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role})).one()
        owned = (await conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :r"), {"r": role})).scalar()
    assert tuple(flags) == (False, False)
    assert owned == 0


@postgres_only
async def test_raw_sql_as_the_app_role_cannot_read_or_write_another_tenant(postgres: DatabaseUnderTest,
                                                                         session: AsyncSession) -> None:
    a_id, b_id = (await _tenant(session, "comm-a")).id, (await _tenant(session, "comm-b")).id
    await session.rollback()
    engine = create_async_engine(postgres.settings.database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a_id)})
            names = set((await conn.execute(text("SELECT name FROM compound"))).scalars())
            assert names == {"甲小区"}
            everything = (await conn.execute(text(
                "SELECT count(*) FROM compound WHERE tenant_id = :b"), {"b": b_id})).scalar()
            assert everything == 0
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM compound"))).scalar() == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a_id)})
                await conn.execute(text(
                    "INSERT INTO compound (tenant_id, id, name, has_property_company, created_at, updated_at)"
                    " VALUES (:b, :id, '越界', true, now(), now())"), {"b": b_id, "id": uuid.uuid4()})
    finally:
        await engine.dispose()


@postgres_only
async def test_a_pooled_connection_never_carries_a_tenant_into_the_next_request(
        postgres: DatabaseUnderTest, app: Litestar, client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    assert (await client.get("/api/v1/tenants/comm-a/compounds", headers=headers)).status_code == 200
    # Every connection the pool holds now served a tenant-scoped transaction; none may still carry it.
    engine = app.state.engine
    connections = [await engine.connect() for _ in range(engine.pool.checkedin() or 1)]
    try:
        for conn in connections:
            setting = (await conn.execute(text("SELECT current_setting('app.tenant_id', true)"))).scalar()
            assert setting in (None, "")
            assert (await conn.execute(text("SELECT count(*) FROM compound"))).scalar() == 0
    finally:
        for conn in connections:
            await conn.close()


@postgres_only
async def test_a_roll_up_through_rls_sees_its_subtree_and_nothing_beside_it(postgres: DatabaseUnderTest,
                                                                           session: AsyncSession) -> None:
    street = await _tenant(session, "street-a")
    district_b = await _tenant(session, "district-b")
    street_path, district_b_path = street.path, district_b.path
    await session.rollback()
    engine = create_async_engine(postgres.settings.database_url, poolclass=NullPool)
    try:
        for path, subtree, expected in ((street_path, "on", {"甲小区", "乙小区"}), (district_b_path, "on", set()),
                                        (street_path, "", set())):  # its path alone reads only its own rows
            async with engine.begin() as conn:
                await conn.execute(text("SELECT set_config('app.tenant_path', :p, true),"
                                        " set_config('app.subtree', :s, true)"), {"p": path, "s": subtree})
                assert set((await conn.execute(text("SELECT name FROM compound"))).scalars()) == expected
    finally:
        await engine.dispose()


async def test_compounds_belong_to_communities_only(client: AsyncClient, auth: Auth) -> None:
    response = await client.post("/api/v1/tenants/street-a/compounds", json={"name": "街道小区"},
                                 headers=await auth("sstaff"))
    assert response.status_code == 409 and "社区" in response.json()["detail"]
    created = await client.post("/api/v1/tenants/comm-a/compounds", json={"name": "新小区", "buildings": ["1号楼"]},
                                headers=await auth("sstaff"))
    assert created.status_code == 201 and created.json()["buildings"][0]["name"] == "1号楼"
    duplicate = await client.post("/api/v1/tenants/comm-a/compounds", json={"name": "新小区"},
                                  headers=await auth("sstaff"))
    assert duplicate.status_code == 409
    assert (await client.post("/api/v1/tenants/comm-a/compounds", json={"name": "x"},
                              headers=await auth("resident"))).status_code == 403


@postgres_only
async def test_a_street_reading_its_subtree_cannot_update_or_delete_a_communitys_rows(
        postgres: DatabaseUnderTest, session: AsyncSession, owner_engine: AsyncEngine) -> None:
    street = await _tenant(session, "street-a")
    street_id, street_path = str(street.id), street.path
    await session.rollback()
    engine = create_async_engine(postgres.settings.database_url, poolclass=NullPool)  # the app role
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.tenant_path', :p, true),"
                                    " set_config('app.subtree', 'on', true)"), {"t": street_id, "p": street_path})
            assert set((await conn.execute(text("SELECT name FROM compound"))).scalars()) == {"甲小区", "乙小区"}
            renamed = await conn.execute(text("UPDATE compound SET name = '改名'"))
            deleted = await conn.execute(text("DELETE FROM building"))
            assert (renamed.rowcount, deleted.rowcount) == (0, 0)
    finally:
        await engine.dispose()
    async with owner_engine.connect() as conn:
        assert set((await conn.execute(text("SELECT name FROM compound"))).scalars()) == {"甲小区", "乙小区"}
        assert (await conn.execute(text("SELECT count(*) FROM building"))).scalar() == 3




# --- the wall as Citus can distribute it ----------------------------------------------------------------------


@postgres_only
async def test_no_policy_reads_another_table_and_every_tenant_row_carries_its_path(
        postgres: DatabaseUnderTest, owner_engine: AsyncEngine) -> None:
    """Citus refuses policies with subqueries on distributed tables: every policy compares the transaction's
    settings with the row's own columns, its tenant's path among them (`tenant_path`, required, defaulting to the
    setting)."""
    async with owner_engine.connect() as conn:
        policies = (await conn.execute(text(
            "SELECT tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies"
            " WHERE schemaname = 'public'"))).all()
        paths = dict((await conn.execute(text(
            "SELECT table_name, is_nullable || ' ' || coalesce(column_default, '') FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'tenant_path'"))).all())
    assert {table for table, *_ in policies} == set(tenant_tables())
    with_subquery = [(table, name) for table, name, sql in policies if re.search(r"\bselect\b", sql, re.I)]
    assert not with_subquery, with_subquery
    assert set(paths) == set(tenant_tables())
    assert set(paths.values()) == {"NO current_setting('app.tenant_path'::text, true)"}


@postgres_only
async def test_rows_written_through_the_app_carry_their_tenants_path(
        postgres: DatabaseUnderTest, client: AsyncClient, auth: Auth, owner_engine: AsyncEngine) -> None:
    filed = await client.post("/api/v1/tenants/comm-a/concerns", headers=await auth("grid"), json={
        "title": "楼道灯不亮", "description": "三单元楼道灯坏了", "category": "public_facilities",
        "resident_name": "王", "resident_phone": "13812345678", "channel": "grid_worker"})
    assert filed.status_code == 201, filed.text
    async with owner_engine.connect() as conn:
        counts = {}
        for table in tenant_tables():
            counts[table] = tuple((await conn.execute(text(
                f"SELECT count(*), count(*) FILTER (WHERE t.tenant_path <> tenant.path) FROM {table} t"  # noqa: S608
                " JOIN tenant ON tenant.id = t.tenant_id"))).one())
    assert counts["concern"][0] == 1 and counts["workflow_event"][0] >= 1 and counts["compound"][0] >= 2
    assert {table: wrong for table, (_, wrong) in counts.items() if wrong} == {}


@postgres_only
async def test_a_row_written_with_another_tenants_path_is_refused(postgres: DatabaseUnderTest,
                                                                  session: AsyncSession) -> None:
    """A row's path is part of the wall: written in a tenant, it must be that tenant's (else a street could
    plant a row its neighbour's subtree reads)."""
    a, b = await _tenant(session, "comm-a"), await _tenant(session, "comm-b")
    a_id, a_path, b_path = str(a.id), a.path, b.path
    await session.rollback()
    engine = create_async_engine(postgres.settings.database_url, poolclass=NullPool)  # the app role
    insert = text("INSERT INTO compound (tenant_id, tenant_path, id, name, has_property_company, created_at,"
                  " updated_at) VALUES (:a, :path, :id, '越界', true, now(), now())")
    try:
        with pytest.raises(DBAPIError, match="row-level security"):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT set_config('app.tenant_id', :t, true),"
                                        " set_config('app.tenant_path', :p, true)"), {"t": a_id, "p": a_path})
                await conn.execute(insert, {"a": a_id, "path": b_path, "id": uuid.uuid4()})
        async with engine.begin() as conn:  # its own path, or none given (the default): written
            await conn.execute(text("SELECT set_config('app.tenant_id', :t, true),"
                                    " set_config('app.tenant_path', :p, true)"), {"t": a_id, "p": a_path})
            await conn.execute(insert, {"a": a_id, "path": a_path, "id": uuid.uuid4()})
            await conn.execute(text(
                "INSERT INTO compound (tenant_id, id, name, has_property_company, created_at, updated_at)"
                " VALUES (:a, :id, '默认', true, now(), now())"), {"a": a_id, "id": uuid.uuid4()})
            written = (await conn.execute(text(
                "SELECT count(*) FROM compound WHERE name IN ('越界', '默认') AND tenant_path = :p"),
                {"p": a_path})).scalar()
            assert written == 2
    finally:
        await engine.dispose()


@postgres_only
async def test_on_citus_the_tenant_settings_go_as_set_local_and_the_wall_holds(
        postgres: DatabaseUnderTest) -> None:
    """A Citus coordinator forwards `SET LOCAL` to its workers, not a `set_config` call inside a query: with
    YISHI_DATABASE_CITUS the app sends the settings so (here on plain PostgreSQL, which takes them alike), and a
    community, a street reading its subtree and a stranger see what they saw before."""
    from sqlalchemy import event

    from core.app import create_app
    from tests.conftest import http_client

    settings = dataclasses.replace(postgres.settings, database_citus=True)
    assert Settings.from_env({"YISHI_DATABASE_CITUS": "1"}).database_citus
    app = create_app(settings)
    statements: list[str] = []
    event.listen(app.state.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql))
    try:
        async with app.lifespan(), http_client(app) as client:
            auth = Auth(client)
            own = await client.get("/api/v1/tenants/comm-a/compounds", headers=await auth("cstaff"))
            assert own.status_code == 200 and {c["name"] for c in own.json()} == {"甲小区"}
            crossed = await client.get("/api/v1/tenants/comm-b/compounds", headers=await auth("cstaff"))
            assert crossed.status_code == 403
            # A retry answers from its first filing's record: read in a transaction begun after the request's
            # first one, which must take the settings too (SET LOCAL sent before the driver's BEGIN would be lost).
            resident = await auth("resident")
            first = await file(client, resident, **{"Idempotency-Key": "citus-retry-1"})
            assert await file(client, resident, **{"Idempotency-Key": "citus-retry-1"}) == first
            listed = (await client.get("/api/v1/tenants/comm-a/concerns", headers=resident)).json()
            assert [c["id"] for c in listed["items"]] == [first["id"]]
            async with app.state.sessionmaker() as session:
                street = await _tenant(session, "street-a")
                async with within(session, street, subtree=True):
                    assert set((await session.scalars(select(Compound.name))).all()) == {"甲小区", "乙小区"}
                    setting = await session.scalar(text("SELECT current_setting('app.subtree', true)"))
                    assert setting == "on"
                async with within(session, street):
                    assert (await session.scalars(select(Compound.name))).all() == []
    finally:
        await app.state.engine.dispose()
    assert statements and not [s for s in statements if "set_config" in s]
