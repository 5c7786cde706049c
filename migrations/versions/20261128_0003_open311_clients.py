"""open311 clients

Open311 GeoReport v2: the client apps a tenant lets file concerns (only a hash of each key is kept), and
what their submissions carried besides the concern (coordinates, address id, media URL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 06:28:40.009905
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TENANT_TABLES = ('open311_client', 'open311_request')


def upgrade() -> None:
    op.create_table('open311_client',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('revoked_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_open311_client_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_open311_client_user_id_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_open311_client')),
    sa.UniqueConstraint('tenant_id', 'key_hash', name=op.f('uq_open311_client_tenant_id'))
    )
    op.create_table('open311_request',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('concern_id', GUID(length=16), nullable=False),
    sa.Column('client_id', GUID(length=16), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('address_id', sa.String(length=100), nullable=True),
    sa.Column('media_url', sa.String(length=500), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'client_id'], ['open311_client.tenant_id', 'open311_client.id'], name=op.f('fk_open311_request_tenant_id_open311_client')),
    sa.ForeignKeyConstraint(['tenant_id', 'concern_id'], ['concern.tenant_id', 'concern.id'], name=op.f('fk_open311_request_tenant_id_concern')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_open311_request_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_open311_request')),
    sa.UniqueConstraint('tenant_id', 'concern_id', name=op.f('uq_open311_request_tenant_id'))
    )
    for table in TENANT_TABLES:
        enable_tenant_wall_before_0027(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_wall(table)
    op.drop_table('open311_request')
    op.drop_table('open311_client')
