"""every tenant table's wall without subqueries: each row carries its tenant's path, the policies compare settings

Citus refuses Row-Level Security policies with subqueries on distributed tables, and ours had two kinds: each
setting wrapped in `(SELECT current_setting(...))`, and the subtree (a district reading its communities) and the
ancestors (time limits a community inherits) looked up in `tenant`. Now every tenant table has `tenant_path`
(filled from `tenant` here, written afterwards by its default from the transaction's `app.tenant_path`, which
every write's check requires), reads of the subtree compare it with the setting (`app.subtree` = 'on'), and the
settings are read as plain expressions. PostgreSQL only: SQLite has no Row-Level Security.

Every table walled so far is converted, the plugins' included (their revisions may have run before this one);
a table walled later gets the current form from `core.migrate.enable_tenant_wall`; the revisions before this one
still build the old form (`enable_tenant_wall_before_0027`), which this one converts.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.migrate import (
    ANCESTORS,
    TENANT_BEFORE_0027,
    TENANT_READ,
    TENANT_READ_BEFORE_0027,
    TENANT_WRITE_BEFORE_0027,
    USER,
    USER_BEFORE_0027,
    WALL_POLICIES,
    add_tenant_path,
    tenant_wall_policies,
)

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

# What a table's reads reach beyond its tenant and subtree, now and before this revision.
ALSO = {
    "role_assignment": f"user_id = {USER}",
    "consent": f"user_id = {USER}",
    "residence": f"user_id = {USER}",
    "notification": f"recipient_id = {USER}",
    "time_limit": ANCESTORS,
    "time_limit_setting": ANCESTORS,
}
OLD_ALSO = {
    "role_assignment": f"user_id = {USER_BEFORE_0027}",
    "consent": f"user_id = {USER_BEFORE_0027}",
    "residence": f"user_id = {USER_BEFORE_0027}",
    "notification": f"recipient_id = {USER_BEFORE_0027}",
    "time_limit": (f"tenant_id IN (SELECT above.id FROM tenant above, tenant me"  # noqa: S608
                   f" WHERE me.id = {TENANT_BEFORE_0027} AND starts_with(me.path, above.path))"),
}
OLD_ALSO["time_limit_setting"] = OLD_ALSO["time_limit"]


def _walled() -> list[str]:
    return list(op.get_bind().execute(sa.text(
        "SELECT tablename FROM pg_policies WHERE schemaname = 'public' AND policyname = 'tenant_read'"
        " ORDER BY tablename")).scalars())


def _drop_policies(table: str) -> None:
    for policy in WALL_POLICIES:
        op.execute(f'DROP POLICY IF EXISTS {policy} ON "{table}"')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _walled():
        for statement in add_tenant_path(table):
            op.execute(statement)
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        _drop_policies(table)
        also = ALSO.get(table)
        for statement in tenant_wall_policies(table, f"({TENANT_READ}) OR ({also})" if also else TENANT_READ):
            op.execute(statement)
    op.execute("DROP POLICY IF EXISTS own_inbox ON notification")
    op.execute(f"CREATE POLICY own_inbox ON notification FOR UPDATE USING (recipient_id = {USER})"
               f" WITH CHECK (recipient_id = {USER})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _walled():
        _drop_policies(table)
        also = OLD_ALSO.get(table)
        read = f"({TENANT_READ_BEFORE_0027}) OR ({also})" if also else TENANT_READ_BEFORE_0027
        for statement in tenant_wall_policies(table, read, TENANT_WRITE_BEFORE_0027):
            op.execute(statement)
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN tenant_path')
    op.execute("DROP POLICY IF EXISTS own_inbox ON notification")
    op.execute(f"CREATE POLICY own_inbox ON notification FOR UPDATE USING (recipient_id = {USER_BEFORE_0027})"
               f" WITH CHECK (recipient_id = {USER_BEFORE_0027})")
