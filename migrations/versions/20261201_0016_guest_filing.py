"""guest filing: a concern filed by phone verification alone has no account that filed it

`concern.filed_by_id` may be NULL: a resident with no account filed it, having proved their phone by a code;
the phone is the concern's `resident_phone`, and joining later with it claims the concern
(`ix_concern_filed_by_phone` finds those concerns by phone).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

FILED_BY_PHONE = sa.text("filed_by_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.alter_column('filed_by_id', existing_type=GUID(length=16), nullable=True)
        batch_op.create_index('ix_concern_filed_by_phone', ['tenant_id', 'resident_phone'], unique=False,
                              sqlite_where=FILED_BY_PHONE, postgresql_where=FILED_BY_PHONE)


def downgrade() -> None:
    # Fails while a concern filed by phone remains: it has nobody to name as its filer, and is not deleted here.
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_filed_by_phone')
        batch_op.alter_column('filed_by_id', existing_type=GUID(length=16), nullable=False)
