"""meetings can be rescheduled or cancelled; low ratings open a follow-up

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: this revision is filled in by the change that needs it."""


def downgrade() -> None:
    """Nothing yet."""
