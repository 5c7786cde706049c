"""red pavilion

Revision ID: p001
Revises:
Create Date: 2026-11-28 05:03:08.265210
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

from core.migrate import drop_tenant_wall, enable_tenant_wall

revision = 'p001'
down_revision = None
branch_labels = ('red_pavilion',)
depends_on = '0002'

TENANT_TABLES = ('pavilion_session', 'pavilion_venue')


def upgrade() -> None:
    op.create_table('pavilion_session',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('venue_id', GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('scheduled_for', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('agenda', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('topics', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('party_members', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('held_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_pavilion_session_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_pavilion_session'))
    )
    with op.batch_alter_table('pavilion_session', schema=None) as batch_op:
        batch_op.create_index('ix_pavilion_session_tenant_venue_at', ['tenant_id', 'venue_id', 'scheduled_for'], unique=False)

    op.create_table('pavilion_venue',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('party_committee', sa.String(length=100), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('monthly_day', sa.Integer(), nullable=True),
    sa.Column('monthly_time', sa.String(length=5), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_pavilion_venue_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_pavilion_venue'))
    )
    for table in TENANT_TABLES:
        enable_tenant_wall(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_wall(table)
    op.drop_table('pavilion_venue')
    with op.batch_alter_table('pavilion_session', schema=None) as batch_op:
        batch_op.drop_index('ix_pavilion_session_tenant_venue_at')

    op.drop_table('pavilion_session')
