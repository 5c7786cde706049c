"""time limits: each tenant's own limits per category and urgency, its working hours and escalation settings

`time_limit` holds a tenant's own respond and resolve limits (ISO 8601 durations, natural or working time) per
category ("*": any) and urgency; `time_limit_setting` its working hours and when a red concern is escalated.
What a tenant has not set it inherits from the tenants above, so a tenant reads its ancestors' rows too: the
wall lets reads reach the tenant's ancestors (writes only ever the tenant itself).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
_TENANT = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
# The transaction's tenant and every tenant above it (their paths begin its own).
ANCESTORS = (f"tenant_id IN (SELECT above.id FROM tenant above, tenant me"  # noqa: S608 (constants, no input)
             f" WHERE me.id = {_TENANT} AND starts_with(me.path, above.path))")


def _audit_columns() -> list[sa.Column]:
    return [sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
            sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
            sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table('time_limit',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('respond', sa.String(length=32), nullable=True),
    sa.Column('respond_working', sa.Boolean(), nullable=False),
    sa.Column('resolve', sa.String(length=32), nullable=True),
    sa.Column('resolve_working', sa.Boolean(), nullable=False),
    *_audit_columns(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_time_limit_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_time_limit')),
    sa.UniqueConstraint('tenant_id', 'category', 'urgency', name=op.f('uq_time_limit_tenant_id'))
    )
    enable_tenant_wall_before_0027("time_limit", also=ANCESTORS)
    op.create_table('time_limit_setting',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('working_hours', JSON, nullable=True),
    sa.Column('escalate_after_hours', sa.Integer(), nullable=True),
    sa.Column('escalate_ceiling', sa.String(length=16), nullable=True),
    *_audit_columns(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_time_limit_setting_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_time_limit_setting')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_time_limit_setting_tenant_id'))
    )
    enable_tenant_wall_before_0027("time_limit_setting", also=ANCESTORS)


def downgrade() -> None:
    drop_tenant_wall('time_limit_setting')
    op.drop_table('time_limit_setting')
    drop_tenant_wall('time_limit')
    op.drop_table('time_limit')
