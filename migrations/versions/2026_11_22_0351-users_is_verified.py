"""Users: is_verified, false for every account that exists when it is added.

Revision ID: 6f10d4ec6add
Revises: 65f97897bf14
Create Date: 2026-11-22 03:51:42.274115+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '6f10d4ec6add'
down_revision: str | Sequence[str] | None = '65f97897bf14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # sa.false() renders as false on PostgreSQL and 0 on SQLite.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_verified', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_verified')
