"""supporters by user: an index for the concerns a resident joined

"我的诉求" lists the concerns the signed-in resident joined (附议) on every visit (core/related/services.py,
`supported`), the newest first; without this index that read every supporter of the community.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_concern_supporter_user', 'concern_supporter', ['tenant_id', 'user_id', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_concern_supporter_user', table_name='concern_supporter')
