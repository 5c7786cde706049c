"""audit links keyed with an HMAC

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: this revision is filled in by the change that needs it."""


def downgrade() -> None:
    """Nothing yet."""
