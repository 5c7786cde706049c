"""the rates are kept per day like the other figures: a district's rates and ranking read no month of concerns

The rates of 接诉即办 were counted from a subtree's concerns and revisits on every read (a district's month: tens
of thousands of rows, each read whole for its `tenant_path` under the policies of 0027). Now `day_tally` keeps
each rate's two counts by the day it counts a concern or revisit by, and histograms of the minutes to a response
and to closing (the medians); `counted_concern` records the days each concern was last counted on, so that a
deadline extended or a concern reopened recounts the days it left. What is not yet due is counted live from the
deadlines still ahead: the awaited responses get a partial index of their own. On a database that has tenants,
`yishi migrate` recounts the kept figures once the migrations are done (`yishi stats rebuild`).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import context, op
from sqlalchemy.dialects import postgresql

from core.migrate import AFTER_UPGRADE, RECOUNT_FIGURES, drop_tenant_wall, enable_tenant_wall

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
COUNTS = ('respond_limits', 'responded_in_time', 'resolve_limits', 'closed_in_time', 'answered_solved',
          'said_solved', 'rated', 'satisfied', 'revisits_asked', 'revisits_answered', 'reopened')
HISTOGRAMS = ('minutes_to_respond', 'minutes_to_resolve')
AWAITING_RESPONSE = "responded_at IS NULL AND respond_by IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('day_tally') as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
        for name in HISTOGRAMS:
            batch.add_column(sa.Column(name, JSON, nullable=False, server_default=sa.text("'{}'")))
    op.create_table('counted_concern',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('concern_id', GUID(length=16), nullable=False),
    sa.Column('days', JSON, nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_counted_concern_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_counted_concern')),
    sa.UniqueConstraint('tenant_id', 'concern_id', name=op.f('uq_counted_concern_tenant_id'))
    )
    enable_tenant_wall('counted_concern')
    op.create_index('ix_concern_tenant_awaiting_response', 'concern', ['tenant_id', 'respond_by'],
                    sqlite_where=sa.text(AWAITING_RESPONSE), postgresql_where=sa.text(AWAITING_RESPONSE))
    if op.get_bind().execute(sa.text("SELECT 1 FROM tenant LIMIT 1")).first() is not None:
        context.config.attributes.setdefault(AFTER_UPGRADE, set()).add(RECOUNT_FIGURES)


def downgrade() -> None:
    op.drop_index('ix_concern_tenant_awaiting_response', table_name='concern')
    drop_tenant_wall('counted_concern')
    op.drop_table('counted_concern')
    with op.batch_alter_table('day_tally') as batch:
        for name in (*HISTOGRAMS, *COUNTS):
            batch.drop_column(name)
