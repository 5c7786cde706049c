"""invitations: links that give whoever opens them first a role in a tenant

`invitation` holds the SHA-256 of each link's token (never the token), the role it gives, the staff's note of
whom it is for, who made it, when it expires, and when and by whom it was used or when it was revoked; walled
like every tenant table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('invitation',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=True),
    sa.Column('created_by', GUID(length=16), nullable=False),
    sa.Column('expires_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('used_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('used_by', GUID(length=16), nullable=True),
    sa.Column('revoked_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_invitation_created_by_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_invitation_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['used_by'], ['user_account.id'], name=op.f('fk_invitation_used_by_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_pending', ['tenant_id', 'expires_at'], unique=False)
    enable_tenant_wall_before_0027("invitation")


def downgrade() -> None:
    drop_tenant_wall('invitation')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index('ix_invitation_pending')
    op.drop_table('invitation')
