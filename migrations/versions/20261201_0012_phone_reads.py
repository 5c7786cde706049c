"""phone reads: the log of every answer that showed residents' phone numbers unmasked

`phone_read` holds who read them (`viewer_id`), on which route, whose (`subject_kind` and the ids in
`subjects`) and when, in the tenant where they were read; walled like every tenant table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('phone_read',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('viewer_id', GUID(length=16), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subjects', JSON, nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_phone_read_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['viewer_id'], ['user_account.id'], name=op.f('fk_phone_read_viewer_id_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_phone_read'))
    )
    with op.batch_alter_table('phone_read', schema=None) as batch_op:
        batch_op.create_index('ix_phone_read_at', ['tenant_id', 'created_at'], unique=False)
    enable_tenant_wall_before_0027("phone_read")


def downgrade() -> None:
    drop_tenant_wall('phone_read')
    with op.batch_alter_table('phone_read', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_read_at')
    op.drop_table('phone_read')
