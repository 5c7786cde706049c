"""duty-list items a deputy takes on alone: no concern, their own title, description and visitor

Revision ID: l002
Revises: l001
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = 'l002'
down_revision = 'l001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('duty_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('visitor_name', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('visitor_phone', sa.String(length=20), nullable=True))
        batch_op.alter_column('concern_id', existing_type=GUID(length=16), nullable=True)


def downgrade() -> None:
    # Items of the deputy's own have no concern to point at: the old schema cannot hold them.
    op.execute("DELETE FROM duty_item WHERE concern_id IS NULL")
    with op.batch_alter_table('duty_item', schema=None) as batch_op:
        batch_op.alter_column('concern_id', existing_type=GUID(length=16), nullable=False)
        batch_op.drop_column('visitor_phone')
        batch_op.drop_column('visitor_name')
        batch_op.drop_column('description')
        batch_op.drop_column('title')
