"""merged duplicates: the duplicates merged into a concern, and a concern's events, each read by an index

Staff merge duplicates into a surviving concern and undo it within the day (core/related/merging.py): the
duplicates of a survivor are read by `(tenant_id, duplicate_of_id)`, only merged rows being in that index. The
staff concern page shows the concern's timeline, its events read by `(tenant_id, subject_id)`.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

MERGED = sa.text("duplicate_of_id IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_concern_tenant_duplicate_of', 'concern', ['tenant_id', 'duplicate_of_id'], unique=False,
                    sqlite_where=MERGED, postgresql_where=MERGED)
    op.create_index('ix_workflow_event_tenant_subject', 'workflow_event', ['tenant_id', 'subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_workflow_event_tenant_subject', table_name='workflow_event')
    op.drop_index('ix_concern_tenant_duplicate_of', table_name='concern')
