"""Auth sessions: the user agent and client address of the login, shown in the session list.

Revision ID: a79121608922
Revises: 6f10d4ec6add
Create Date: 2026-11-22 03:53:01.157067+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = 'a79121608922'
down_revision: str | Sequence[str] | None = '6f10d4ec6add'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True))
        batch_op.add_column(sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('ip_address')
        batch_op.drop_column('user_agent')
