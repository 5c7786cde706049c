"""cppcc consultation

Revision ID: c001
Revises:
Create Date: 2026-11-28 05:12:35.614778
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

from core.migrate import drop_tenant_wall, enable_tenant_wall

revision = 'c001'
down_revision = None
branch_labels = ('cppcc_consultation',)
depends_on = '0002'

TENANT_TABLES = ('cppcc_plan', 'cppcc_topic', 'cppcc_problem', 'cppcc_recommendation', 'cppcc_symposium', 'cppcc_training', 'cppcc_visit')


def upgrade() -> None:
    op.create_table('cppcc_plan',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_plan_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_plan')),
    sa.UniqueConstraint('tenant_id', 'year', name=op.f('uq_cppcc_plan_tenant_id'))
    )
    op.create_table('cppcc_topic',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('plan_id', GUID(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('members', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_topic_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_topic'))
    )
    op.create_table('cppcc_problem',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('aspect', sa.String(length=100), nullable=True),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['cppcc_topic.tenant_id', 'cppcc_topic.id'], name=op.f('fk_cppcc_problem_tenant_id_cppcc_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_problem_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_problem'))
    )
    op.create_table('cppcc_recommendation',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('problem_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('adopted', sa.Boolean(), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['cppcc_topic.tenant_id', 'cppcc_topic.id'], name=op.f('fk_cppcc_recommendation_tenant_id_cppcc_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_recommendation_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_recommendation'))
    )
    op.create_table('cppcc_symposium',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('group', sa.String(length=30), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('statements', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['cppcc_topic.tenant_id', 'cppcc_topic.id'], name=op.f('fk_cppcc_symposium_tenant_id_cppcc_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_symposium_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_symposium'))
    )
    op.create_table('cppcc_training',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('attendees', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['cppcc_topic.tenant_id', 'cppcc_topic.id'], name=op.f('fk_cppcc_training_tenant_id_cppcc_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_training_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_training'))
    )
    op.create_table('cppcc_visit',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('community', sa.String(length=63), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('compounds', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['cppcc_topic.tenant_id', 'cppcc_topic.id'], name=op.f('fk_cppcc_visit_tenant_id_cppcc_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cppcc_visit_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_cppcc_visit'))
    )
    for table in TENANT_TABLES:
        enable_tenant_wall(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_wall(table)
    op.drop_table('cppcc_visit')
    op.drop_table('cppcc_training')
    op.drop_table('cppcc_symposium')
    op.drop_table('cppcc_recommendation')
    op.drop_table('cppcc_problem')
    op.drop_table('cppcc_topic')
    op.drop_table('cppcc_plan')
