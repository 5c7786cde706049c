"""notification webhooks: a tenant's URLs that receive its notifications as signed JSON

`notification_webhook` holds each URL, its signing secret, the kinds it receives and whether it is on; a
notification for a webhook is a `notification` row with `webhook_id` set and no recipient, made unique per
webhook by a partial index (the table's unique constraint treats their NULL recipients as all different).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
FOR_A_WEBHOOK = sa.text("webhook_id IS NOT NULL")


def upgrade() -> None:
    op.create_table('notification_webhook',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('kinds', JSON, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_notification_webhook_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notification_webhook'))
    )
    enable_tenant_wall_before_0027("notification_webhook")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('uq_notification_webhook_once', ['tenant_id', 'webhook_id', 'dedup_key', 'channel'],
                              unique=True, sqlite_where=FOR_A_WEBHOOK, postgresql_where=FOR_A_WEBHOOK)


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('uq_notification_webhook_once')
    drop_tenant_wall('notification_webhook')
    op.drop_table('notification_webhook')
