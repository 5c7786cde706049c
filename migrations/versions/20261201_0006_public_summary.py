"""concerns carry a public summary and a tracking code

The public reads a concern's summary (staff's, or else its title with personal data taken out), and follows
it by its reference plus a short secret, since references are sequential. Concerns filed before get a secret
here; their residents learn it on their own concern page. Both columns stay nullable (expand/contract: the
previous release keeps filing during the upgrade, without a secret).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as core.concerns.services.TRACKING_ALPHABET, frozen here
LENGTH = 4


def upgrade() -> None:
    with op.batch_alter_table('concern') as batch:
        batch.add_column(sa.Column('public_summary', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('tracking_secret', sa.String(length=8), nullable=True))
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenant")).all():
        if postgres:  # Row-Level Security applies to the owner too (FORCE): act as the tenant
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        ids = bind.execute(sa.text("SELECT id FROM concern WHERE tenant_id = :t AND tracking_secret IS NULL"),
                           {"t": tenant_id}).scalars().all()
        for concern_id in ids:
            bind.execute(sa.text("UPDATE concern SET tracking_secret = :s WHERE tenant_id = :t AND id = :i"),
                         {"s": "".join(secrets.choice(ALPHABET) for _ in range(LENGTH)), "t": tenant_id,
                          "i": concern_id})


def downgrade() -> None:
    with op.batch_alter_table('concern') as batch:
        batch.drop_column('tracking_secret')
        batch.drop_column('public_summary')
