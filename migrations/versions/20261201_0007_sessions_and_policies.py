"""sessions can be revoked; subtree policies widen reads only

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: this revision is filled in by the change that needs it."""


def downgrade() -> None:
    """Nothing yet."""
