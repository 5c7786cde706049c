"""six-step workflow

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:05:07.779748
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TENANT_TABLES = ('concern', 'concern_category', 'event_chain_head', 'idempotency_record', 'photo', 'reference_counter', 'topic', 'workflow_event', 'action_item', 'decision', 'meeting', 'rating', 'research', 'action_progress')


def upgrade() -> None:
    op.create_table('concern',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('compound_id', GUID(length=16), nullable=True),
    sa.Column('building_id', GUID(length=16), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('filed_by_id', GUID(length=16), nullable=False),
    sa.Column('resident_id', GUID(length=16), nullable=True),
    sa.Column('resident_name', sa.String(length=50), nullable=True),
    sa.Column('resident_phone', sa.String(length=20), nullable=True),
    sa.Column('triage_reason', sa.Text(), nullable=True),
    sa.Column('triage_note', sa.Text(), nullable=True),
    sa.Column('escalated_to_id', GUID(length=16), nullable=True),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('origin_tenant_id', GUID(length=16), nullable=True),
    sa.Column('origin_concern_id', GUID(length=16), nullable=True),
    sa.Column('topic_id', GUID(length=16), nullable=True),
    sa.Column('closed_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['escalated_to_id'], ['tenant.id'], name=op.f('fk_concern_escalated_to_id_tenant')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['user_account.id'], name=op.f('fk_concern_filed_by_id_user_account')),
    sa.ForeignKeyConstraint(['resident_id'], ['user_account.id'], name=op.f('fk_concern_resident_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_concern_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_concern')),
    sa.UniqueConstraint('tenant_id', 'reference', name=op.f('uq_concern_tenant_id'))
    )
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.create_index('ix_concern_tenant_escalated_to', ['tenant_id', 'escalated_to_id'], unique=False)
        batch_op.create_index('ix_concern_tenant_status_created', ['tenant_id', 'status', 'created_at'], unique=False)

    op.create_table('concern_category',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_concern_category_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_concern_category')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_concern_category_tenant_id'))
    )
    op.create_table('event_chain_head',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_event_chain_head_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_event_chain_head')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_event_chain_head_tenant_id'))
    )
    op.create_table('idempotency_record',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_idempotency_record_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'key', name=op.f('uq_idempotency_record_tenant_id'))
    )
    op.create_table('photo',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('owner_kind', sa.String(length=20), nullable=False),
    sa.Column('owner_id', GUID(length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=30), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', GUID(length=16), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_photo_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_photo_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_photo'))
    )
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index('ix_photo_tenant_owner', ['tenant_id', 'owner_kind', 'owner_id'], unique=False)

    op.create_table('reference_counter',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_reference_counter_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_reference_counter')),
    sa.UniqueConstraint('tenant_id', 'year', name=op.f('uq_reference_counter_tenant_id'))
    )
    op.create_table('topic',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', GUID(length=16), nullable=False),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('published_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('completed_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_topic_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_topic_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_topic'))
    )
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.create_index('ix_topic_tenant_state', ['tenant_id', 'state'], unique=False)

    op.create_table('workflow_event',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=True),
    sa.Column('actor_id', GUID(length=16), nullable=True),
    sa.Column('at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_workflow_event_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_workflow_event')),
    sa.UniqueConstraint('tenant_id', 'seq', name=op.f('uq_workflow_event_tenant_id'))
    )
    with op.batch_alter_table('workflow_event', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_event_tenant_topic', ['tenant_id', 'topic_id'], unique=False)

    op.create_table('action_item',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_org', sa.String(length=100), nullable=True),
    sa.Column('owner_user_id', GUID(length=16), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('completed_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_user_id'], ['user_account.id'], name=op.f('fk_action_item_owner_user_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topic.tenant_id', 'topic.id'], name=op.f('fk_action_item_tenant_id_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_action_item_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_action_item'))
    )
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_tenant_status_due', ['tenant_id', 'status', 'due_date'], unique=False)

    op.create_table('decision',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('meeting_id', GUID(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('votes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('eligible_voters', sa.Integer(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topic.tenant_id', 'topic.id'], name=op.f('fk_decision_tenant_id_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_decision_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_decision')),
    sa.UniqueConstraint('tenant_id', 'topic_id', name=op.f('uq_decision_tenant_id'))
    )
    op.create_table('meeting',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('mechanism', sa.String(length=30), nullable=False),
    sa.Column('venue', sa.String(length=100), nullable=False),
    sa.Column('starts_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('ends_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('invitees', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attendance', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=True),
    sa.Column('opinions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('minutes_recorded_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topic.tenant_id', 'topic.id'], name=op.f('fk_meeting_tenant_id_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_meeting_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_tenant_starts', ['tenant_id', 'starts_at'], unique=False)

    op.create_table('rating',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topic.tenant_id', 'topic.id'], name=op.f('fk_rating_tenant_id_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_rating_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rating')),
    sa.UniqueConstraint('tenant_id', 'topic_id', 'user_id', name=op.f('uq_rating_tenant_id'))
    )
    op.create_table('research',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('topic_id', GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('participants', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('question', sa.Text(), nullable=True),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('responses', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('recorded_by_id', GUID(length=16), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'topic_id'], ['topic.tenant_id', 'topic.id'], name=op.f('fk_research_tenant_id_topic')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_research_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_research'))
    )
    op.create_table('action_progress',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('action_id', GUID(length=16), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reported_by_id', GUID(length=16), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'action_id'], ['action_item.tenant_id', 'action_item.id'], name=op.f('fk_action_progress_tenant_id_action_item')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_action_progress_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_action_progress'))
    )

    for table in TENANT_TABLES:
        enable_tenant_wall_before_0027(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_wall(table)

    op.drop_table('action_progress')
    op.drop_table('research')
    op.drop_table('rating')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_tenant_starts')

    op.drop_table('meeting')
    op.drop_table('decision')
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index('ix_action_item_tenant_status_due')

    op.drop_table('action_item')
    with op.batch_alter_table('workflow_event', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_event_tenant_topic')

    op.drop_table('workflow_event')
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_tenant_state')

    op.drop_table('topic')
    op.drop_table('reference_counter')
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_tenant_owner')

    op.drop_table('photo')
    op.drop_table('idempotency_record')
    op.drop_table('event_chain_head')
    op.drop_table('concern_category')
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_tenant_status_created')
        batch_op.drop_index('ix_concern_tenant_escalated_to')

    op.drop_table('concern')
