"""day tallies: the figures kept per tenant and Beijing day (and month), its own and its subtree's

`/stats` reads these instead of counting concerns, topics, meetings and ratings: the fan-out of the event log
recounts the days an event touched and adds the change to the tenant's months and to every ancestor's subtree
rows (core/reporting/tallies.py). The table starts empty: on a database that already has tenants, `yishi migrate`
counts what there was before (`yishi stats rebuild`) once the migrations are done.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import context, op
from sqlalchemy.dialects import postgresql

from core.migrate import AFTER_UPGRADE, RECOUNT_FIGURES, drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('day_tally',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('subtree', sa.Boolean(), nullable=False),
    sa.Column('month', sa.Boolean(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('concerns_received', sa.Integer(), nullable=False),
    sa.Column('resolved_directly', sa.Integer(), nullable=False),
    sa.Column('topics', sa.Integer(), nullable=False),
    sa.Column('consultations_held', sa.Integer(), nullable=False),
    sa.Column('matters_completed', sa.Integer(), nullable=False),
    sa.Column('rating_total', sa.Integer(), nullable=False),
    sa.Column('ratings', sa.Integer(), nullable=False),
    sa.Column('follow_ups', sa.Integer(), nullable=False),
    sa.Column('minutes_to_completion', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_day_tally_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_day_tally')),
    sa.UniqueConstraint('tenant_id', 'subtree', 'month', 'day', name=op.f('uq_day_tally_tenant_id'))
    )
    enable_tenant_wall_before_0027("day_tally")
    # The tenant tree is a shared table (no wall): any tenant means figures to count, by the app, after this.
    if op.get_bind().execute(sa.text("SELECT 1 FROM tenant LIMIT 1")).first() is not None:
        context.config.attributes.setdefault(AFTER_UPGRADE, set()).add(RECOUNT_FIGURES)


def downgrade() -> None:
    drop_tenant_wall('day_tally')
    op.drop_table('day_tally')
