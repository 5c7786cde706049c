"""concern clock: every concern's deadlines, lights and alerts; extensions (延期) and revisits (回访)

A concern gets its urgency, its respond and resolve deadlines (each with the moment it turns yellow and whether
it counts working time), when it was responded to, whether it is paused, when the time-limit sweep next acts on
it (indexed where set: the sweep never reads closed concerns) and how often it was reopened (重办).
`deadline_extension` holds the extensions a handling tenant asks of the level above; `revisit` the questions a
resident is asked once their concern is resolved.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ALERT_DUE = sa.text("alert_at IS NOT NULL")
_MOMENTS = ('respond_by', 'respond_warn_at', 'resolve_by', 'resolve_warn_at', 'responded_at', 'paused_at', 'alert_at')


def _audit_columns() -> list[sa.Column]:
    return [sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
            sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
            sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False)]


def _concern_table(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column('tenant_id', GUID(length=16), nullable=False),
        sa.Column('id', GUID(length=16), nullable=False),
        sa.Column('concern_id', GUID(length=16), nullable=False),
        *columns,
        *_audit_columns(),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f(f'fk_{name}_tenant_id_tenant')),
        sa.ForeignKeyConstraint(['tenant_id', 'concern_id'], ['concern.tenant_id', 'concern.id'],
                                name=op.f(f'fk_{name}_tenant_id_concern')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{name}')),
    )
    enable_tenant_wall_before_0027(name)


def upgrade() -> None:
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgency', sa.String(length=10), server_default='normal', nullable=False))
        for name in _MOMENTS:
            batch_op.add_column(sa.Column(name, DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('respond_working', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('resolve_working', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('alert_stage', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('reopened', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_concern_alert_at', ['alert_at'], unique=False, sqlite_where=ALERT_DUE,
                              postgresql_where=ALERT_DUE)
    _concern_table(
        'deadline_extension',
        sa.Column('extra', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('requested_by_id', GUID(length=16), nullable=False),
        sa.Column('decided_by_id', GUID(length=16), nullable=True),
        sa.Column('decided_at', DateTimeUTC(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                                name=op.f('fk_deadline_extension_requested_by_id_user_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_deadline_extension_decided_by_id_user_account')),
    )
    op.create_index('ix_deadline_extension_status', 'deadline_extension', ['tenant_id', 'status'], unique=False)
    _concern_table(
        'revisit',
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('asked_at', DateTimeUTC(timezone=True), nullable=False),
        sa.Column('solved', sa.Boolean(), nullable=True),
        sa.Column('satisfaction', sa.String(length=12), nullable=True),
        sa.Column('answered_at', DateTimeUTC(timezone=True), nullable=True),
        sa.Column('answered_by_id', GUID(length=16), nullable=True),
        sa.Column('channel', sa.String(length=10), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'],
                                name=op.f('fk_revisit_answered_by_id_user_account')),
        sa.UniqueConstraint('tenant_id', 'concern_id', 'round', name=op.f('uq_revisit_tenant_id')),
    )
    op.create_index('ix_revisit_tenant_asked', 'revisit', ['tenant_id', 'asked_at'], unique=False)


def downgrade() -> None:
    for name in ('revisit', 'deadline_extension'):
        drop_tenant_wall(name)
        op.drop_table(name)
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_alert_at')
        for name in ('reopened', 'alert_stage', 'resolve_working', 'respond_working', *_MOMENTS, 'urgency'):
            batch_op.drop_column(name)
