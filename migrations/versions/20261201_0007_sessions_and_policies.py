"""sessions can be revoked; subtree policies widen reads only

Signing out moves the user's `session_version`, which every token carries, so the tokens issued before stop
working at once. Login throttling keeps, per key, when it may try again (`retry_at`), for a growing delay.
On PostgreSQL the one policy per tenant table (`tenant_wall`, for every command, whose USING clause reached
the subtree) becomes four: reads keep the subtree clause, INSERT, UPDATE and DELETE see only the tenant.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

from core.migrate import TENANT_WRITE_BEFORE_0027, WALL_POLICIES, tenant_wall_policies

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _policies(name: str) -> list[tuple[str, str]]:
    """(table, USING clause) of every public table with the policy `name`; the clause as PostgreSQL keeps it."""
    rows = op.get_bind().execute(sa.text(
        "SELECT tablename, qual FROM pg_policies WHERE schemaname = 'public' AND policyname = :name"
        " ORDER BY tablename"), {"name": name})
    return [(table, qual) for table, qual in rows]


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("login_throttle") as batch:
        batch.add_column(sa.Column("retry_at", DateTimeUTC(timezone=True), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    # Plugins' tables too: whichever table still has the old policy gets the new ones, its read clause kept.
    for table, read in _policies("tenant_wall"):
        op.execute(f'DROP POLICY tenant_wall ON "{table}"')
        for statement in tenant_wall_policies(table, read, TENANT_WRITE_BEFORE_0027):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, read in _policies("tenant_read"):
            for policy in WALL_POLICIES:
                op.execute(f'DROP POLICY {policy} ON "{table}"')
            op.execute(f'CREATE POLICY tenant_wall ON "{table}" USING ({read}) WITH CHECK ({TENANT_WRITE_BEFORE_0027})')
    with op.batch_alter_table("login_throttle") as batch:
        batch.drop_column("retry_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
