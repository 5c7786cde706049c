"""liaison station

Revision ID: l001
Revises:
Create Date: 2026-11-28 04:39:50.095354
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

from core.migrate import drop_tenant_wall, enable_tenant_wall

revision = 'l001'
down_revision = None
branch_labels = ('liaison_station',)
depends_on = '0002'

TENANT_TABLES = ('duty_item', 'liaison_reception', 'liaison_station')


def upgrade() -> None:
    op.create_table('duty_item',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('deputy_id', GUID(length=16), nullable=False),
    sa.Column('reception_id', GUID(length=16), nullable=False),
    sa.Column('concern_id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('feedback_score', sa.Integer(), nullable=True),
    sa.Column('feedback_text', sa.Text(), nullable=True),
    sa.Column('closed_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['user_account.id'], name=op.f('fk_duty_item_deputy_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_duty_item_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_duty_item'))
    )
    with op.batch_alter_table('duty_item', schema=None) as batch_op:
        batch_op.create_index('ix_duty_item_tenant_concern', ['tenant_id', 'concern_id'], unique=False)
        batch_op.create_index('ix_duty_item_tenant_deputy', ['tenant_id', 'deputy_id'], unique=False)
        batch_op.create_index('ix_duty_item_tenant_topic', ['tenant_id', 'topic_id'], unique=False)

    op.create_table('liaison_reception',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('station_id', GUID(length=16), nullable=False),
    sa.Column('deputy_id', GUID(length=16), nullable=False),
    sa.Column('held_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('residents_received', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['user_account.id'], name=op.f('fk_liaison_reception_deputy_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_liaison_reception_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_liaison_reception'))
    )
    op.create_table('liaison_station',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('schedule', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_liaison_station_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_liaison_station'))
    )
    for table in TENANT_TABLES:
        enable_tenant_wall(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_wall(table)
    op.drop_table('liaison_station')
    op.drop_table('liaison_reception')
    with op.batch_alter_table('duty_item', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_item_tenant_topic')
        batch_op.drop_index('ix_duty_item_tenant_deputy')
        batch_op.drop_index('ix_duty_item_tenant_concern')

    op.drop_table('duty_item')
