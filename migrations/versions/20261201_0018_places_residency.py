"""places and residency: compounds and buildings may be archived

An archived compound or building is offered to nobody (join and filing forms, the join QR codes) and still
names the concerns and residences that name it. Whether a community verifies residency is a portal setting
(`verify_residency`, in the tenant's JSON), so it needs no column.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('compound', 'building'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    for table in ('building', 'compound'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('archived')
