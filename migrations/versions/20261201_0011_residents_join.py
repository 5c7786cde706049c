"""residents join: codes that prove a phone, consents, where residents live, verified phones

`verification_code` holds each code sent by SMS (as an HMAC) with its purpose, expiry and wrong tries;
`consent` what a person agreed to in a tenant (the privacy notice's version, SMS notices); `residence` the
compound and building a resident gave, and who confirmed it. A user's phone is verified once a code came back
(one account per verified number), and an account someone else made must change its password first. A
notification may go to an address instead of an account (a code to a phone with no account yet).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

VERIFIED = sa.text("phone_verified_at IS NOT NULL")
_ME = "(SELECT NULLIF(current_setting('app.user_id', true), '')::uuid)"


def _audit_columns() -> list[sa.Column]:
    return [sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
            sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
            sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False)]


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_verified_at', DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index('uq_user_verified_phone', ['phone'], unique=True, sqlite_where=VERIFIED,
                              postgresql_where=VERIFIED)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=254), nullable=True))
    op.create_table('verification_code',
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('asked_in_id', GUID(length=16), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('expires_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('used_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    *_audit_columns(),
    sa.ForeignKeyConstraint(['asked_in_id'], ['tenant.id'], name=op.f('fk_verification_code_asked_in_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_code'))
    )
    with op.batch_alter_table('verification_code', schema=None) as batch_op:
        batch_op.create_index('ix_verification_code_phone', ['phone', 'purpose', 'created_at'], unique=False)
        batch_op.create_index('ix_verification_code_client', ['client', 'created_at'], unique=False)
    op.create_table('consent',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    *_audit_columns(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_consent_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_consent_user_id_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_consent'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index('ix_consent_user', ['user_id', 'kind'], unique=False)
    enable_tenant_wall_before_0027("consent", also=f"user_id = {_ME}")
    op.create_table('residence',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('user_id', GUID(length=16), nullable=False),
    sa.Column('compound_id', GUID(length=16), nullable=True),
    sa.Column('building_id', GUID(length=16), nullable=True),
    sa.Column('confirmed_at', DateTimeUTC(timezone=True), nullable=True),
    sa.Column('confirmed_by', GUID(length=16), nullable=True),
    *_audit_columns(),
    sa.ForeignKeyConstraint(['confirmed_by'], ['user_account.id'],
                            name=op.f('fk_residence_confirmed_by_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_residence_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_residence_user_id_user_account')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_residence')),
    sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_residence_tenant_id'))
    )
    enable_tenant_wall_before_0027("residence", also=f"user_id = {_ME}")


def downgrade() -> None:
    drop_tenant_wall('residence')
    op.drop_table('residence')
    drop_tenant_wall('consent')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_user')
    op.drop_table('consent')
    with op.batch_alter_table('verification_code', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_code_client')
        batch_op.drop_index('ix_verification_code_phone')
    op.drop_table('verification_code')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('address')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index('uq_user_verified_phone')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('phone_verified_at')
