"""rates: indexes for counting a month of a subtree's concerns and revisits

The rates of 接诉即办 (core/reporting/rates.py, docs/rates.md) count a Beijing month of every tenant below a
district by when each concern fell due (`resolve_by`), was responded to and was closed, and by when each revisit
was answered: an index per moment, the last three only where it is set (an open concern writes none of them).
On 1,000 tenants and 1,000,000 concerns a district's month read 125,000 rows per count without them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

RESPONDED = sa.text("responded_at IS NOT NULL")
CLOSED = sa.text("closed_at IS NOT NULL")
ANSWERED = sa.text("answered_at IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_concern_tenant_resolve_by', 'concern', ['tenant_id', 'resolve_by'], unique=False)
    op.create_index('ix_concern_tenant_responded', 'concern', ['tenant_id', 'responded_at'], unique=False,
                    sqlite_where=RESPONDED, postgresql_where=RESPONDED)
    op.create_index('ix_concern_tenant_closed', 'concern', ['tenant_id', 'closed_at'], unique=False,
                    sqlite_where=CLOSED, postgresql_where=CLOSED)
    op.create_index('ix_revisit_tenant_answered', 'revisit', ['tenant_id', 'answered_at'], unique=False,
                    sqlite_where=ANSWERED, postgresql_where=ANSWERED)


def downgrade() -> None:
    op.drop_index('ix_revisit_tenant_answered', table_name='revisit')
    for name in ('ix_concern_tenant_closed', 'ix_concern_tenant_responded', 'ix_concern_tenant_resolve_by'):
        op.drop_index(name, table_name='concern')
