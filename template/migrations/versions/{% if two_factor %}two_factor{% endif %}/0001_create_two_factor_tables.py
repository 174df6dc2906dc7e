"""Create the two-factor tables: TOTP credentials, backup codes and sign-in challenges.

Revision ID: two_factor_0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "two_factor_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("two_factor",)
depends_on: str | Sequence[str] | None = "accounts_0001"

#: UTCDateTime as stored: to the microsecond on MySQL too.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "two_factor_credentials",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("encrypted_secret", sa.String(length=255), nullable=False),
        sa.Column("enabled_at", UTC_DATETIME, nullable=True),
        sa.Column("setup_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_two_factor_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_two_factor_credentials")),
    )
    op.create_table(
        "two_factor_backup_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_two_factor_backup_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_two_factor_backup_codes")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_two_factor_backup_codes_code_digest")),
    )
    op.create_index(
        op.f("ix_two_factor_backup_codes_user_id"),
        "two_factor_backup_codes",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "two_factor_challenges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_two_factor_challenges_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_two_factor_challenges")),
    )
    op.create_index(
        op.f("ix_two_factor_challenges_expires_at"),
        "two_factor_challenges",
        ["expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_two_factor_challenges_user_id"),
        "two_factor_challenges",
        ["user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_two_factor_challenges_user_id"), table_name="two_factor_challenges")
    op.drop_index(op.f("ix_two_factor_challenges_expires_at"), table_name="two_factor_challenges")
    op.drop_table("two_factor_challenges")
    op.drop_index(op.f("ix_two_factor_backup_codes_user_id"), table_name="two_factor_backup_codes")
    op.drop_table("two_factor_backup_codes")
    op.drop_table("two_factor_credentials")
