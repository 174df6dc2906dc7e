"""Compare email addresses exactly on MySQL, as the service does.

MySQL's default collations fold case, accents and more ("exámple" matches "example"), while the
service's spelling of an address (`users/identity.py`) only trims and lower-cases it, and keys
its rate limits on that spelling: two addresses the database matched to one account had two
limits. A binary collation matches exactly what the service does; PostgreSQL already compares
exactly.

Revision ID: accounts_0003
Revises: accounts_0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "accounts_0003"
down_revision: str | Sequence[str] | None = "accounts_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _on_mysql() -> bool:
    return op.get_bind().dialect.name in {"mysql", "mariadb"}


def upgrade() -> None:
    if _on_mysql():
        op.alter_column(
            "users",
            "email",
            existing_type=sa.String(length=320),
            type_=mysql.VARCHAR(length=320, collation="utf8mb4_bin"),
            existing_nullable=False,
        )


def downgrade() -> None:
    if _on_mysql():
        op.alter_column(
            "users",
            "email",
            existing_type=mysql.VARCHAR(length=320, collation="utf8mb4_bin"),
            type_=sa.String(length=320),
            existing_nullable=False,
        )
