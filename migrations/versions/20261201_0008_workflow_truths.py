"""meetings can be rescheduled or cancelled; low ratings open a follow-up

A meeting records when and why it was called off; a topic's follow-up (回访) records the rating that opened
it and how staff closed it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
    op.create_table('topic_follow_up',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('rating_id', GUID(length=16), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('average', sa.Float(), nullable=True),
    sa.Column('closed_by_id', GUID(length=16), nullable=True),
    sa.Column('closed_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_topic_follow_up_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id', 'rating_id'], ['rating.tenant_id', 'rating.id'], name=op.f('fk_topic_follow_up_tenant_id_rating')),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topic.tenant_id', 'topic.id'], name=op.f('fk_topic_follow_up_tenant_id_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_topic_follow_up_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic_follow_up'))
    )
    with op.batch_alter_table('topic_follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_topic_follow_up_tenant_status', ['tenant_id', 'status'], unique=False)
    enable_tenant_wall_before_0027('topic_follow_up')


def downgrade() -> None:
    drop_tenant_wall('topic_follow_up')
    with op.batch_alter_table('topic_follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_follow_up_tenant_status')
    op.drop_table('topic_follow_up')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
