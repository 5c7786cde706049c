"""Fresh, migrated PostgreSQL databases bulk-loaded as the owner: tenants, users and a year of concerns.

The large one has 1,000 tenants, 10,000 users and 1,000,000 concerns; the small one, measured beside it,
10 tenants, with as many users per tenant and concerns per community. Concerns are made by one set-based INSERT … SELECT
in PostgreSQL (no rows travel from Python), so a million of them take seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import asyncpg
from sqlalchemy.engine import make_url
from uuid_utils.compat import uuid7

from bench.tree import Node, build_tree
from core import migrate
from core.accounts.services import Passwords
from core.concerns.models import DEFAULT_CATEGORIES
from core.concerns.services import reference_prefix
from core.plugins import Plugins
from core.settings import Settings

TENANTS = 1_000
USERS = 10_000
CONCERNS = 1_000_000
PASSWORD = "bench-password-2026"
# Roles of the community users, by "round" over the communities: one staff member and one grid worker per
# community, a few representatives, residents for the rest.
COMMUNITY_ROUNDS = ("community_staff", "grid_worker", "resident_rep", "party_member")
# Concerns are filed in this many communities at once during the load (one resident each), as residents of
# many communities file at once: a community's filings queue on its reference counter and event chain rows,
# and the load would otherwise measure that one queue rather than the server.
FILING_TENANTS = 8
# The bare INSERT's table (bench/reference_app.py): the concern's columns, its primary key and nothing else —
# no other index, no foreign key, no Row-Level Security.
BARE_TABLE = "bench_bare_insert"


@dataclass(frozen=True)
class Seeded:
    """What the load test needs to know about the data: the measured tenants and users holding roles there."""

    tenant_id: uuid.UUID
    tenant_slug: str
    username: str  # a resident of tenant_slug
    password: str
    staff_username: str  # the community_staff member of tenant_slug (sees every concern there)
    district_slug: str  # the district above tenant_slug
    district_username: str  # its district_admin
    filers: tuple[tuple[str, str], ...]  # (community slug, a resident there), outside the measured district
    concerns: int
    concern_seconds: float  # time spent inserting the concerns, their counters, and VACUUM ANALYZE


def _dsn(sqlalchemy_url: str, database: str | None = None) -> str:
    """asyncpg's DSN for a SQLAlchemy URL, optionally pointing at another database."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def _admin_execute(owner_url: str, sql: str) -> None:
    # CREATE/DROP DATABASE cannot run in the database itself, so go through the maintenance database.
    conn = await asyncpg.connect(_dsn(owner_url, "postgres"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(settings: Settings) -> None:
    """Drop and recreate a bench database, then migrate it (which also creates and grants the app role)."""
    name = make_url(settings.owner_database_url).database
    asyncio.run(_admin_execute(settings.owner_database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin_execute(settings.owner_database_url, f'CREATE DATABASE "{name}"'))
    migrate.upgrade(settings, Plugins())


def drop_database(settings: Settings) -> None:
    name = make_url(settings.owner_database_url).database
    asyncio.run(_admin_execute(settings.owner_database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed(settings: Settings, tenants: int = TENANTS, users: int = USERS, concerns: int = CONCERNS) -> Seeded:
    return asyncio.run(_seed(settings, tenants, users, concerns))


def rebuild_tallies(settings: Settings) -> float:
    """Count the figures a district's /stats reads (`core.reporting.tallies`) from the seeded rows, which came
    with no events for the fan-out to follow, as `yishi stats rebuild` does; the seconds it took."""
    from sqlalchemy import select

    from core.db import create_engine, create_sessionmaker
    from core.reporting import tallies
    from core.tenancy.models import Tenant

    async def rebuild() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine, settings.audit_key)() as session:
                await tallies.rebuild(session, (await session.scalars(select(Tenant).order_by(Tenant.path))).all())
                await session.commit()
        finally:
            await engine.dispose()

    started = time.monotonic()
    asyncio.run(rebuild())
    return time.monotonic() - started


def concerns_for(tenants: int) -> int:
    """As many concerns per community as the large database has: a small database's "proportionate handful"."""
    communities = sum(1 for node in build_tree(tenants) if node.kind == "community")
    large = sum(1 for node in build_tree(TENANTS) if node.kind == "community")
    return round(CONCERNS * communities / large)


def database_names(settings: Settings) -> set[str]:
    """Every database of the cluster (to tell PostgreSQL backends serving someone else's from ours)."""
    async def names() -> set[str]:
        conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
        try:
            return {row["datname"] for row in await conn.fetch("SELECT datname FROM pg_database")}
        finally:
            await conn.close()

    return asyncio.run(names())


async def count_concerns(settings: Settings, tenant_slugs: list[str]) -> int:
    """Rows of `concern` in these tenants, counted as the owner (a superuser: Row-Level Security bypassed)."""
    conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM concern WHERE tenant_id IN (SELECT id FROM tenant WHERE slug = ANY($1))",
            tenant_slugs)
    finally:
        await conn.close()


async def missing_concerns(settings: Settings, ids: list[str]) -> int:
    """How many of these acknowledged concern ids have no row: each one an acknowledged write that was lost."""
    conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM unnest($1::uuid[]) AS acked(id) WHERE NOT EXISTS "
            "(SELECT 1 FROM concern WHERE concern.id = acked.id)", list(set(ids)))
    finally:
        await conn.close()


async def count_bare_rows(settings: Settings, ids: list[str]) -> tuple[int, int]:
    """(rows in the bare INSERT's table, acknowledged ids missing from it)."""
    conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
    try:
        total = await conn.fetchval(f"SELECT count(*) FROM {BARE_TABLE}")
        missing = await conn.fetchval(
            f"SELECT count(*) FROM unnest($1::uuid[]) AS acked(id) WHERE NOT EXISTS "
            f"(SELECT 1 FROM {BARE_TABLE} b WHERE b.id = acked.id)", list(set(ids)))
        return total, missing
    finally:
        await conn.close()


async def _seed(settings: Settings, tenant_count: int, user_count: int, concern_count: int) -> Seeded:
    now = datetime.datetime.now(datetime.UTC)
    tree = build_tree(tenant_count)
    communities = [node for node in tree if node.kind == "community"]
    districts = [node for node in tree if node.kind == "district"]
    password_hash = Passwords(settings.password_hash).hash(PASSWORD)  # argon2 is slow on purpose: hash once, share it

    users: list[tuple] = []
    assignments: list[tuple] = []

    def add_user(username: str, display_name: str, node: Node, role: str) -> uuid.UUID:
        user_id = uuid.UUID(bytes=uuid7().bytes)
        phone = f"139{len(users):08d}"
        users.append((user_id, username, display_name, phone, password_hash, False, True, 0, now, now))
        assignments.append((node.id, node.path, uuid.UUID(bytes=uuid7().bytes), user_id, role, None, now, now))
        return user_id

    for i, district in enumerate(districts):
        add_user(f"district-admin-{i + 1:02d}", f"区管理员{i + 1}", district, "district_admin")
    # Who files a community's seeded concerns: its grid worker (on a resident's behalf) or its first resident.
    filers: dict[int, dict[str, uuid.UUID]] = {c: {} for c in range(len(communities))}
    for i in range(user_count - len(districts)):
        round_, community = divmod(i, len(communities))
        role = COMMUNITY_ROUNDS[round_] if round_ < len(COMMUNITY_ROUNDS) else "resident"
        user_id = add_user(f"user-{i + 1:05d}", f"居民{i + 1}", communities[community], role)
        filers[community].setdefault(role, user_id)

    tenants = [
        (n.id, n.slug, n.name, n.kind, n.parent.id if n.parent else None, n.path, "[]", "{}", False, now, now)
        for n in tree
    ]
    conn = await asyncpg.connect(_dsn(settings.owner_database_url), timeout=10)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("tenant", records=tenants, columns=[
                "id", "slug", "name", "kind", "parent_id", "path", "plugins", "portal", "archived",
                "created_at", "updated_at",
            ])
            await conn.copy_records_to_table("user_account", records=users, columns=[
                "id", "username", "display_name", "phone", "password_hash", "platform_admin", "active",
                "authz_version", "created_at", "updated_at",
            ])
            await conn.copy_records_to_table("role_assignment", records=assignments, columns=[
                "tenant_id", "tenant_path", "id", "user_id", "role", "granted_by", "created_at", "updated_at",
            ])
        started = time.monotonic()
        await _seed_concerns(conn, communities, filers, concern_count, now)
        await _create_bare_table(conn, make_url(settings.database_url).username)
        # Fresh tables have no statistics and no visibility map: plan and read as on a live, vacuumed database.
        await conn.execute("VACUUM (ANALYZE)")
        concern_seconds = time.monotonic() - started
    finally:
        await conn.close()

    # The measured community is the first; its district is the one /stats is asked about. Concerns are filed
    # into communities of other districts, so the load changes neither the measured list nor the roll-up.
    measured = communities[0]
    district = _ancestor(measured, "district")
    first_resident = len(COMMUNITY_ROUNDS) * len(communities)
    elsewhere = [c for c in range(1, len(communities)) if _ancestor(communities[c], "district") is not district]
    nearby = [c for c in range(1, len(communities)) if c not in elsewhere]
    filing = (elsewhere + nearby)[:FILING_TENANTS]
    return Seeded(
        tenant_id=measured.id,
        tenant_slug=measured.slug,
        username=f"user-{first_resident + 1:05d}",
        password=PASSWORD,
        staff_username="user-00001",  # round 0 of community 0: its community_staff
        district_slug=district.slug,
        district_username=f"district-admin-{districts.index(district) + 1:02d}",
        filers=tuple((communities[c].slug, f"user-{first_resident + c + 1:05d}") for c in filing),
        concerns=concern_count,
        concern_seconds=concern_seconds,
    )


def _ancestor(node: Node, kind: str) -> Node:
    while node.kind != kind:
        assert node.parent is not None, f"{node.slug} has no {kind} above it"
        node = node.parent
    return node


# One row per generated concern, spread round-robin over the communities and evenly over the past year,
# newest first within each community; a multiplicative hash of the row number picks the status, category,
# channel and a jitter of its time. Ids are UUIDv7-shaped (time first), as the app's are.
_CONCERNS_SQL = """
WITH generated AS (
    SELECT g.n % $1 AS idx,
           $3::timestamptz - ((g.n / $1) * $4 + (g.n::bigint * 2654435761 % 4294967296) % $4) * interval '1 second'
               AS at,
           g.n::bigint * 2654435761 % 4294967296 AS h,
           md5(g.n::text) AS noise
    FROM generate_series(0, $2 - 1) AS g(n)
), shaped AS (
    SELECT c.tenant_id, c.tenant_path, c.parent_id, c.prefix, c.resident_id, c.grid_worker_id, r.at, r.noise,
           CASE WHEN r.h % 100 < 10 THEN 'submitted' WHEN r.h % 100 < 30 THEN 'accepted'
                WHEN r.h % 100 < 60 THEN 'resolved' WHEN r.h % 100 < 70 THEN 'rejected'
                WHEN r.h % 100 < 85 THEN 'in_topic' WHEN r.h % 100 < 93 THEN 'escalated'
                ELSE 'taken_over' END AS status,
           $5::text[] AS categories, r.h / 100 % 11 AS category, r.h / 1100 % 10 < 7 AS by_resident,
           extract(year FROM r.at)::int AS year,
           row_number() OVER (PARTITION BY r.idx, extract(year FROM r.at) ORDER BY r.at) AS number
    FROM generated r JOIN seed_community c USING (idx)
)
INSERT INTO concern (tenant_id, tenant_path, id, reference, title, description, category, channel, status,
                     filed_by_id, resident_id, resident_name, escalated_to_id, triage_reason, closed_at, created_at,
                     updated_at)
SELECT tenant_id, tenant_path,
       (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(noise, 1, 3) || '8'
        || substr(noise, 4, 15))::uuid,
       prefix || '-' || year || '-' || lpad(number::text, 6, '0'),
       '楼道堆放杂物影响通行 #' || number,
       '三号楼二单元楼道长期堆放纸箱和旧家具，堵塞消防通道，存在安全隐患，希望物业和社区协调清理，并建立长效管理机制。',
       categories[1 + category::int],
       CASE WHEN by_resident THEN 'portal' ELSE 'grid_worker' END,
       status,
       CASE WHEN by_resident THEN resident_id ELSE grid_worker_id END,
       CASE WHEN by_resident THEN resident_id END,
       CASE WHEN by_resident THEN NULL ELSE '王女士' END,
       CASE WHEN status IN ('escalated', 'taken_over') THEN parent_id END,
       CASE WHEN status IN ('rejected', 'escalated', 'taken_over') THEN '超出本社区职责范围' END,
       CASE WHEN status IN ('resolved', 'rejected') THEN least(at + interval '3 days', $3::timestamptz) END,
       at,
       CASE WHEN status = 'submitted' THEN at ELSE least(at + interval '3 days', $3::timestamptz) END
FROM shaped
"""
# The app numbers references per tenant and year from these counters: continue after the seeded ones.
_COUNTERS_SQL = """
INSERT INTO reference_counter (tenant_id, tenant_path, id, year, value, created_at, updated_at)
SELECT tenant_id, tenant_path, gen_random_uuid(), extract(year FROM created_at)::int, count(*), $1::timestamptz,
       $1::timestamptz
FROM concern GROUP BY tenant_id, tenant_path, extract(year FROM created_at)::int
"""


async def _seed_concerns(conn: asyncpg.Connection, communities: list[Node], filers: dict[int, dict[str, uuid.UUID]],
                         count: int, now: datetime.datetime) -> None:
    per_community = -(-count // len(communities))
    step_seconds = max(1, 365 * 86400 // per_community)  # a year, evenly, per community
    rows = [
        (i, node.id, node.path, node.parent.id if node.parent else None,
         reference_prefix(SimpleNamespace(portal={}, slug=node.slug)),  # type: ignore[arg-type]
         filers[i].get("resident") or filers[i].get("community_staff"), filers[i]["grid_worker"])
        for i, node in enumerate(communities)
    ]
    async with conn.transaction():
        # Years and references are counted in UTC, as the app counts them.
        await conn.execute("SET LOCAL TimeZone = 'UTC'")
        await conn.execute("SET LOCAL work_mem = '256MB'")  # the numbering window sorts a million rows in memory
        # The rows are valid by construction (real tenants and users): skip a million foreign-key trigger calls.
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute(
            "CREATE TEMP TABLE seed_community (idx int PRIMARY KEY, tenant_id uuid, tenant_path text, parent_id uuid,"
            " prefix text,"
            " resident_id uuid, grid_worker_id uuid) ON COMMIT DROP")
        await conn.copy_records_to_table("seed_community", records=rows)
        await conn.execute(_CONCERNS_SQL, len(communities), count, now, step_seconds, list(DEFAULT_CATEGORIES))
        await conn.execute(_COUNTERS_SQL, now)


async def _create_bare_table(conn: asyncpg.Connection, app_role: str | None) -> None:
    await conn.execute(f"CREATE TABLE {BARE_TABLE} (LIKE concern INCLUDING DEFAULTS, PRIMARY KEY (tenant_id, id))")
    # The wall's column (the tenant's path, for the policies) is no column of the concern's own.
    await conn.execute(f"ALTER TABLE {BARE_TABLE} DROP COLUMN tenant_path")
    if app_role:
        await conn.execute(f'GRANT SELECT, INSERT ON {BARE_TABLE} TO "{app_role}"')
