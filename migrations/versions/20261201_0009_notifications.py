"""notifications: the outbox, people's choices, the job engine's queue

Every notification is a row per recipient and channel (`notification`), written in the transaction of the
event that causes it; its delivery job is procrastinate's (whose schema this revision installs on PostgreSQL,
at the version pinned in pyproject.toml). People may give an e-mail address and the language of their messages.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_ME = "(SELECT NULLIF(current_setting('app.user_id', true), '')::uuid)"
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default="zh-CN"))
    op.create_table('notification',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('recipient_id', GUID(length=16), nullable=True),
    sa.Column('webhook_id', GUID(length=16), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('dedup_key', sa.String(length=120), nullable=False),
    sa.Column('event_id', GUID(length=16), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('params', JSON, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('deliver_after', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('sent_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('read_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('digest_id', GUID(length=16), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['user_account.id'], name=op.f('fk_notification_recipient_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_notification_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notification')),
    sa.UniqueConstraint('tenant_id', 'dedup_key', 'channel', 'recipient_id', name=op.f('uq_notification_tenant_id'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_recipient', ['recipient_id', 'channel', 'read_at'], unique=False)
        batch_op.create_index('ix_notification_tenant_status', ['tenant_id', 'status'], unique=False)
    # A person reads their own inbox across every tenant, and marks it read; nothing else of another tenant's.
    enable_tenant_wall_before_0027("notification", also=f"recipient_id = {_ME}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE POLICY own_inbox ON notification FOR UPDATE USING (recipient_id = {_ME})"
                   f" WITH CHECK (recipient_id = {_ME})")
    op.create_table('notification_preference',
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('channels', JSON, nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_preference_user_id'))
    )
    if op.get_bind().dialect.name == "postgresql":
        # Many statements with function bodies: sent as one simple query by the driver itself (a prepared
        # statement takes one command), inside the migration's transaction.
        driver = op.get_bind().connection.driver_connection
        await_(driver.execute(SchemaManager.get_schema()))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Everything procrastinate's schema made: its tables, then its functions and types, found by name.
        op.execute(r"""DO $$ DECLARE r record; BEGIN
            FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'procrastinate\_%' LOOP
                EXECUTE format('DROP TABLE %I CASCADE', r.tablename); END LOOP;
            FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\_%' LOOP
                EXECUTE format('DROP FUNCTION %s CASCADE', r.f); END LOOP;
            FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate\_%' AND t.typtype IN ('e', 'c') LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname); END LOOP;
        END $$""")
        op.execute("DROP POLICY IF EXISTS own_inbox ON notification")
    op.drop_table('notification_preference')
    drop_tenant_wall('notification')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_tenant_status')
        batch_op.drop_index('ix_notification_recipient')
    op.drop_table('notification')
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
        batch.drop_column("email")
