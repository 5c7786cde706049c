"""notification cursor: how far each tenant's event log has been fanned out to its role holders

The notices to a tenant's staff (a new concern, a low rating, a time limit running out) are no longer written in
the event's transaction: a worker reads the events after the tenant's cursor, writes the notices and moves the
cursor (core/notifications/fanout.py). Every tenant there is now starts at its chain head: what happened before
the upgrade was told in its own transaction already and is not told again.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from core.migrate import drop_tenant_wall, enable_tenant_wall_before_0027

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_cursor',
    sa.Column('tenant_id', GUID(length=16), nullable=False),
    sa.Column('id', GUID(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_notification_cursor_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notification_cursor')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_notification_cursor_tenant_id'))
    )
    enable_tenant_wall_before_0027("notification_cursor")
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    guid, at = GUID(length=16), DateTimeUTC(timezone=True)
    tenant = sa.table("tenant", sa.column("id", guid))
    head = sa.table("event_chain_head", sa.column("tenant_id", guid), sa.column("seq", sa.Integer()))
    cursor = sa.table("notification_cursor", sa.column("tenant_id", guid), sa.column("id", guid),
                      sa.column("seq", sa.Integer()), sa.column("created_at", at), sa.column("updated_at", at))
    now = datetime.datetime.now(datetime.UTC)
    for tenant_id in bind.execute(sa.select(tenant.c.id)).scalars().all():
        if postgres:  # Row-Level Security applies to the owner too (FORCE): act as the tenant
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        seq = bind.execute(sa.select(head.c.seq).where(head.c.tenant_id == tenant_id)).scalar()
        bind.execute(sa.insert(cursor).values(tenant_id=tenant_id, id=uuid.uuid4(), seq=seq or 0, created_at=now,
                                              updated_at=now))


def downgrade() -> None:
    drop_tenant_wall('notification_cursor')
    op.drop_table('notification_cursor')
