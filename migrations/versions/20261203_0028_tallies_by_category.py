"""the figures kept per day count the concerns received by category: the district dashboard reads no concern

The dashboard's chart of concerns by category was the last figure counted from the concerns (an index-only range
per community, which the Row-Level Security of revision 0027, reading each row's `tenant_path`, would turn into a
read of every row). It now comes from `day_tally.concerns_by_category`, kept by the fan-out like every other
figure; the concerns' index goes back to its columns without the category. On a database that has tenants,
`yishi migrate` recounts the kept figures once the migrations are done (`yishi stats rebuild`).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from core.migrate import AFTER_UPGRADE, RECOUNT_FIGURES

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

COLUMNS = ['tenant_id', 'status', 'created_at']
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('day_tally') as batch:
        batch.add_column(sa.Column('concerns_by_category', JSON, nullable=False, server_default=sa.text("'{}'")))
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_concern_tenant_status_created', table_name='concern')
        op.create_index('ix_concern_tenant_status_created', 'concern', COLUMNS)
    if op.get_bind().execute(sa.text("SELECT 1 FROM tenant LIMIT 1")).first() is not None:
        context.config.attributes.setdefault(AFTER_UPGRADE, set()).add(RECOUNT_FIGURES)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_concern_tenant_status_created', table_name='concern')
        op.create_index('ix_concern_tenant_status_created', 'concern', COLUMNS, postgresql_include=['category'])
    with op.batch_alter_table('day_tally') as batch:
        batch.drop_column('concerns_by_category')
