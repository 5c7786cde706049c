"""an individual problem is referred to a department's account, the only one that may answer it

Revision ID: c002
Revises: c001
Create Date: 2026-12-01 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = 'c002'
down_revision = 'c001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Problems referred before by a department's name only keep it; no account may answer them until referred anew.
    with op.batch_alter_table("cppcc_problem") as batch:
        batch.add_column(sa.Column("department_user_id", GUID(length=16), nullable=True))
        batch.create_foreign_key(op.f("fk_cppcc_problem_department_user_id_user_account"), "user_account",
                                 ["department_user_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("cppcc_problem") as batch:
        batch.drop_constraint(op.f("fk_cppcc_problem_department_user_id_user_account"), type_="foreignkey")
        batch.drop_column("department_user_id")
