"""invitation tokens unique within their tenant: every tenant table's keys lead with `tenant_id` (Citus)

An invitation is always opened in its link's tenant (/t/{slug}/invite/{token}), so its token need only be unique
there; a key of a distributed table must contain the distribution column (docs/deploy.md, "Moving to Citus").
A token is 32 random bytes: unique across tenants too, in practice.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invitation') as batch:
        batch.drop_constraint('uq_invitation_token_hash', type_='unique')
        batch.create_unique_constraint('uq_invitation_tenant_id', ['tenant_id', 'token_hash'])


def downgrade() -> None:
    with op.batch_alter_table('invitation') as batch:
        batch.drop_constraint('uq_invitation_tenant_id', type_='unique')
        batch.create_unique_constraint('uq_invitation_token_hash', ['token_hash'])
