"""related concerns: the similarity index, residents joining a concern (附议), merged duplicates

`concern_band` holds each concern's MinHash values (core/related/sketch.py), keyed so that one range of its
primary key gives a value's newest concerns; `concern_supporter` the residents who joined a concern or were
carried over by a merge. A concern counts its supporters, and a merged duplicate names the concern it joined
and the state it had (what undoing the merge restores). Concerns filed before this revision are indexed by
`yishi related reindex`.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('concern_band',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('filed_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('concern_id', GUID(length=16), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_concern_band_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'key', 'filed_at', 'concern_id', name=op.f('pk_concern_band'))
    )
    enable_tenant_wall_before_0027("concern_band")
    op.create_table('concern_supporter',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('concern_id', GUID(length=16), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('merged_from_id', GUID(length=16), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_concern_supporter_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_concern_supporter_user_id_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_concern_supporter')),
    sa.UniqueConstraint('tenant_id', 'concern_id', 'user_id', name=op.f('uq_concern_supporter_tenant_id'))
    )
    enable_tenant_wall_before_0027("concern_supporter")
    with op.batch_alter_table('concern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supporters', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('duplicate_of_id', GUID(length=16), nullable=True))
        batch_op.add_column(sa.Column('merged_from', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('merged_at', DateTimeUTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('concern', schema=None) as batch_op:
        for column in ('merged_at', 'merged_from', 'duplicate_of_id', 'supporters'):
            batch_op.drop_column(column)
    drop_tenant_wall('concern_supporter')
    op.drop_table('concern_supporter')
    drop_tenant_wall('concern_band')
    op.drop_table('concern_band')
