"""Running Alembic from code, and the two PostgreSQL roles: the owner migrates, the app only reads and writes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

import migrations
from core.settings import Settings

if TYPE_CHECKING:
    from core.plugins import Plugins

log = logging.getLogger("yishi.migrate")
MIGRATIONS_DIR = Path(migrations.__file__).parent
# Tables whose rows are never changed once written: the app role may only read and add.
APPEND_ONLY_TABLES = {"workflow_event"}


def alembic_config(settings: Settings, plugins: Plugins) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    # Each plugin keeps its revisions in its own folder, on its own branch label.
    folders = [MIGRATIONS_DIR / "versions", *plugins.contributions.migrations]
    config.set_main_option("path_separator", ";")
    config.set_main_option("version_locations", ";".join(str(f) for f in folders))
    config.attributes["plugins"] = plugins  # migrations/env.py: their tables are on the metadata
    config.attributes["owner_url"] = settings.owner_database_url
    config.attributes["app_url"] = settings.database_url
    config.attributes["audit_key"] = settings.audit_key  # revision 0005 re-links the audit chains with it
    return config


# What a migration asks the app to do once the schema is up to date (work it cannot do in SQL): `upgrade` answers
# the set of them, and `yishi migrate` does them.
AFTER_UPGRADE = "after_upgrade"
RECOUNT_FIGURES = "recount figures"  # revision 0025: count the kept figures of the tenants there were


def upgrade(settings: Settings, plugins: Plugins, revision: str = "heads") -> set[str]:
    """Bring the database to `revision`, the core's and these plugins' branches alike; what the migrations that
    ran asked to be done after them (`AFTER_UPGRADE`)."""
    if settings.owner_database_url.startswith("sqlite"):
        _ensure_sqlite_dir(settings.owner_database_url)
    config = alembic_config(settings, plugins)
    command.upgrade(config, revision)
    return set(config.attributes.get(AFTER_UPGRADE, ()))


def _ensure_sqlite_dir(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_app_role(connection: Connection, app_url: str) -> None:
    """Create the app's login role if missing and grant it DML on the tables, nothing more.

    The role owns nothing and has no BYPASSRLS, so Row-Level Security holds for every query it makes.
    """
    url = make_url(app_url)
    role = url.username
    owner = connection.execute(text("SELECT current_user")).scalar_one()
    if not role or role == owner:
        log.warning("the app connects as the owner role %s: use a separate role in production", owner)
        return
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        password = f" PASSWORD {_literal(url.password)}" if url.password else ""
        connection.execute(text(
            f"CREATE ROLE {_ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS{password}"
        ))
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    connection.execute(text(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(role)}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {_ident(role)}"))
    tables = connection.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    )).scalars().all()
    for table in tables:
        privileges = "SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT, INSERT, UPDATE, DELETE"
        connection.execute(text(f"REVOKE ALL ON {_ident(table)} FROM {_ident(role)}"))
        connection.execute(text(f"GRANT {privileges} ON {_ident(table)} TO {_ident(role)}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_ident(role)}"))


# The wall, as Citus can distribute it: no subqueries, only the transaction's settings and the row's own columns.
# Each row carries its tenant's path (`tenant_path`, PostgreSQL only, written by its default from the setting), so
# a subtree read compares the row with the setting and never looks the tree up. The settings are STABLE functions:
# an index condition evaluates them once, a filter once per row (a hash lookup, no query).
_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
_PATH = "NULLIF(current_setting('app.tenant_path', true), '')"
USER = "NULLIF(current_setting('app.user_id', true), '')::uuid"
# Constants of our own, no input: the policies' SQL.
TENANT_READ = (f"tenant_id = {_TENANT}"
               f" OR (current_setting('app.subtree', true) = 'on' AND starts_with(tenant_path, {_PATH}))")
TENANT_WRITE = f"tenant_id = {_TENANT} AND tenant_path = {_PATH}"
# The transaction's tenant and every tenant above it (their paths begin its own): what time limits inherit.
ANCESTORS = f"starts_with({_PATH}, tenant_path)"
# What a row's `tenant_path` is when written: its tenant's, which every write's check requires to be the setting.
PATH_DEFAULT = "current_setting('app.tenant_path', true)"


# The policies of a tenant table: reads may reach the subtree (and `also`); every write only the tenant itself.
WALL_POLICIES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def tenant_wall_policies(table: str, read: str, write: str = TENANT_WRITE) -> list[str]:
    """The statements creating a table's wall: `read` for SELECT; INSERT, UPDATE and DELETE only ever reach
    the transaction's own tenant (`write`), so a street reading its communities cannot change or delete their rows."""
    name = _ident(table)
    return [
        f"CREATE POLICY tenant_read ON {name} FOR SELECT USING ({read})",
        f"CREATE POLICY tenant_insert ON {name} FOR INSERT WITH CHECK ({write})",
        f"CREATE POLICY tenant_update ON {name} FOR UPDATE USING ({write}) WITH CHECK ({write})",
        f"CREATE POLICY tenant_delete ON {name} FOR DELETE USING ({write})",
    ]


# The wall as the revisions before 0027 built it, which they still build (a revision's schema never changes; 0027
# converts it): each setting in a scalar subquery, the subtree looked up in `tenant`, no `tenant_path`.
TENANT_BEFORE_0027 = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
PATH_BEFORE_0027 = "(SELECT NULLIF(current_setting('app.tenant_path', true), ''))"
USER_BEFORE_0027 = "(SELECT NULLIF(current_setting('app.user_id', true), '')::uuid)"
_IN_SUBTREE_BEFORE_0027 = f"tenant_id IN (SELECT id FROM tenant WHERE path LIKE {PATH_BEFORE_0027} || '%')"  # noqa: S608
TENANT_READ_BEFORE_0027 = f"tenant_id = {TENANT_BEFORE_0027} OR ({PATH_BEFORE_0027} IS NOT NULL AND {_IN_SUBTREE_BEFORE_0027})"
TENANT_WRITE_BEFORE_0027 = f"tenant_id = {TENANT_BEFORE_0027}"


def enable_tenant_wall_before_0027(table: str, also: str | None = None) -> None:
    """The wall of a table made by a revision before 0027 (`also` in that revision's own form)."""
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    read = f"({TENANT_READ_BEFORE_0027}) OR ({also})" if also else TENANT_READ_BEFORE_0027
    op.execute(f"ALTER TABLE {_ident(table)} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {_ident(table)} FORCE ROW LEVEL SECURITY")
    for statement in tenant_wall_policies(table, read, TENANT_WRITE_BEFORE_0027):
        op.execute(statement)


def add_tenant_path(table: str) -> list[str]:
    """The statements giving a table its rows' tenant path: added, filled from `tenant` for the rows already there
    (as the owner, with the wall lowered: forced Row-Level Security would hide them), then required."""
    name = _ident(table)
    return [
        f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS tenant_path text",
        f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY",
        f"UPDATE {name} AS t SET tenant_path = tenant.path FROM tenant"  # noqa: S608 (our table names)
        f" WHERE tenant.id = t.tenant_id AND t.tenant_path IS NULL",
        f"ALTER TABLE {name} ALTER COLUMN tenant_path SET DEFAULT {PATH_DEFAULT}",
        f"ALTER TABLE {name} ALTER COLUMN tenant_path SET NOT NULL",
    ]


def enable_tenant_wall(table: str, also: str | None = None) -> None:
    """Row-Level Security, forced even for the owner: rows of the transaction's tenant (or its subtree, for
    reads) and nothing else. `also` widens reads by one more predicate. No-op off PostgreSQL.

    The wall as it stands since 0027, for the revisions after it and the plugins' (whose branches may run before
    or after 0027: 0027 converts whatever it finds, and this form again is what it converts to)."""
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    read = f"({TENANT_READ}) OR ({also})" if also else TENANT_READ
    for statement in add_tenant_path(table):
        op.execute(statement)
    op.execute(f"ALTER TABLE {_ident(table)} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {_ident(table)} FORCE ROW LEVEL SECURITY")
    for statement in tenant_wall_policies(table, read):
        op.execute(statement)


def drop_tenant_wall(table: str) -> None:
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for policy in ("tenant_wall", *WALL_POLICIES):  # tenant_wall: the one policy for all commands before 0007
        op.execute(f"DROP POLICY IF EXISTS {policy} ON {_ident(table)}")
    op.execute(f"ALTER TABLE {_ident(table)} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {_ident(table)} DISABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {_ident(table)} DROP COLUMN IF EXISTS tenant_path")
