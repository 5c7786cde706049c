"""The Citus distribution plan, read from the models: which tables are reference tables, which stay on the
coordinator, and the tenant tables distributed by `tenant_id`, co-located, parents before children."""

from __future__ import annotations

from sqlalchemy import Table

from core.db import Base, tenant_tables

# Shared tables joined by tenant tables (their foreign keys point here): a full copy on every node.
REFERENCE_TABLES = ("tenant", "user_account")
# Shared tables no tenant table points at or joins on a worker — per-user and per-address records of signing in,
# the codes sent to phones, a user's channel choices — and the bookkeeping of Alembic and the job engine: they stay
# on the coordinator, where the API and the workers reach them as on plain PostgreSQL.
LOCAL_TABLES = ("login_throttle", "sign_in", "verification_code", "notification_preference", "alembic_version")
LOCAL_PREFIXES = ("procrastinate_",)  # the job engine's own tables


def distributed_tables() -> list[Table]:
    """Every tenant table, in the order their foreign keys allow (a key may point only at a table distributed or
    made a reference table before it)."""
    tenant = set(tenant_tables())
    return [table for table in Base.metadata.sorted_tables if table.name in tenant]


def placement(name: str) -> str:
    """"reference", "local" or "distributed" for a table of the database; "unplaced" for one this plan does not
    know (a new shared table must be placed here before a cluster can take it)."""
    if name in REFERENCE_TABLES:
        return "reference"
    if name in LOCAL_TABLES or name.startswith(LOCAL_PREFIXES):
        return "local"
    return "distributed" if name in set(tenant_tables()) else "unplaced"


def plan() -> list[str]:
    """The statements that turn a migrated, still empty or running Yishi database on a Citus coordinator into a
    distributed one (`yishi citus plan`; docs/scale.md). Every tenant table is co-located with the first, so one
    tenant's rows of every table are on one node and its queries, joins and foreign keys stay there."""
    statements = [f"SELECT create_reference_table('{name}');" for name in REFERENCE_TABLES]
    first: str | None = None
    for table in distributed_tables():
        colocated = f", colocate_with => '{first}'" if first else ""
        statements.append(f"SELECT create_distributed_table('{table.name}', 'tenant_id'{colocated});")
        first = first or table.name
    return statements
