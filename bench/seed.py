"""A fresh, migrated PostgreSQL database with 1,000 tenants and 10,000 users, bulk-loaded as the owner in seconds."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url
from uuid_utils.compat import uuid7

from bench.tree import Node, build_tree
from core import migrate
from core.accounts.services import _hasher
from core.settings import Settings

TENANTS = 1_000
USERS = 10_000
PASSWORD = "bench-password-2026"
# Roles of the community users, by "round" over the communities: one staff member and one grid worker per
# community, a few representatives, residents for the rest.
COMMUNITY_ROUNDS = ("community_staff", "grid_worker", "resident_rep", "party_member")


@dataclass(frozen=True)
class Seeded:
    """What the load test needs to know about the data: the measured tenant and a user holding a role on it."""

    tenant_id: uuid.UUID
    tenant_slug: str
    username: str
    password: str


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
    """Drop and recreate the bench database, then migrate it (which also creates and grants the app role)."""
    name = make_url(settings.owner_database_url).database
    asyncio.run(_admin_execute(settings.owner_database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin_execute(settings.owner_database_url, f'CREATE DATABASE "{name}"'))
    migrate.upgrade(settings)


def drop_database(settings: Settings) -> None:
    name = make_url(settings.owner_database_url).database
    asyncio.run(_admin_execute(settings.owner_database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed(settings: Settings) -> Seeded:
    return asyncio.run(_seed(settings))


async def _seed(settings: Settings) -> Seeded:
    now = datetime.datetime.now(datetime.UTC)
    tree = build_tree(TENANTS)
    communities = [node for node in tree if node.kind == "community"]
    districts = [node for node in tree if node.kind == "district"]
    password_hash = _hasher.hash(PASSWORD)  # argon2 is slow on purpose: hash once, share it

    users: list[tuple] = []
    assignments: list[tuple] = []

    def add_user(username: str, display_name: str, node: Node, role: str) -> None:
        user_id = uuid.UUID(bytes=uuid7().bytes)
        phone = f"139{len(users):08d}"
        users.append((user_id, username, display_name, phone, password_hash, False, True, 0, now, now))
        assignments.append((node.id, uuid.UUID(bytes=uuid7().bytes), user_id, role, None, now, now))

    for i, district in enumerate(districts):
        add_user(f"district-admin-{i + 1:02d}", f"区管理员{i + 1}", district, "district_admin")
    for i in range(USERS - len(districts)):
        round_, community = divmod(i, len(communities))
        role = COMMUNITY_ROUNDS[round_] if round_ < len(COMMUNITY_ROUNDS) else "resident"
        add_user(f"user-{i + 1:05d}", f"居民{i + 1}", communities[community], role)

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
                "tenant_id", "id", "user_id", "role", "granted_by", "created_at", "updated_at",
            ])
        await conn.execute("ANALYZE")  # fresh tables have no statistics: plan queries as on a live database
    finally:
        await conn.close()

    # The measured user: the first plain resident of the first community.
    measured = communities[0]
    first_resident = len(COMMUNITY_ROUNDS) * len(communities)
    return Seeded(measured.id, measured.slug, f"user-{first_resident + 1:05d}", PASSWORD)
