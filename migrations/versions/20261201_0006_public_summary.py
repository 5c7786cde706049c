"""concerns carry a public summary and a tracking code

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: this revision is filled in by the change that needs it."""


def downgrade() -> None:
    """Nothing yet."""
