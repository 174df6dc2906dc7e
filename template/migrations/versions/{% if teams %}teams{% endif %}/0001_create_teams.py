"""Create the teams, memberships, current teams and invitations tables, and give every existing
user a personal team (owner membership and current team), as registration does.

The backfill runs when a live service turns teams on: it reads the users in pages and writes in
plain INSERTs with ids made here, so it works the same on PostgreSQL and MySQL.

Revision ID: teams_0001
Revises:
Create Date: 2026-11-28
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "teams_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("teams",)
depends_on: str | Sequence[str] | None = "accounts_0003"

#: UTCDateTime as stored: to the microsecond on MySQL too.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
#: The users' email type: compared exactly on MySQL too (accounts_0003).
EMAIL = sa.String(length=320).with_variant(
    mysql.VARCHAR(length=320, collation="utf8mb4_bin"), "mysql", "mariadb"
)
#: As the service names a personal team (`teams.service`), as of this revision.
TEAM_NAME_MAX_LENGTH = 100
PERSONAL_SUFFIX = "'s team"
#: Users read and backfilled per round trip.
BATCH = 1000

teams = sa.table(
    "teams",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("personal_user_id", sa.Uuid()),
    sa.column("created_at", UTC_DATETIME),
    sa.column("updated_at", UTC_DATETIME),
)
memberships = sa.table(
    "team_memberships",
    sa.column("team_id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("role", sa.String()),
    sa.column("joined_at", UTC_DATETIME),
)
current_teams = sa.table(
    "current_teams", sa.column("user_id", sa.Uuid()), sa.column("team_id", sa.Uuid())
)
users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("full_name", sa.String()),
)


def _create_tables() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("personal_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["personal_user_id"],
            ["users.id"],
            name=op.f("fk_teams_personal_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("personal_user_id", name=op.f("uq_teams_personal_user_id")),
    )
    op.create_table(
        "team_memberships",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_memberships_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_memberships")),
    )
    op.create_index(
        op.f("ix_team_memberships_user_id"), "team_memberships", ["user_id"], unique=False
    )
    op.create_table(
        "current_teams",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id", "user_id"],
            ["team_memberships.team_id", "team_memberships.user_id"],
            name=op.f("fk_current_teams_team_id_team_memberships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_current_teams")),
    )
    op.create_index(
        op.f("ix_current_teams_team_id"), "current_teams", ["team_id", "user_id"], unique=False
    )
    op.create_table(
        "team_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("email", EMAIL, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_team_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_invitations_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitations")),
        sa.UniqueConstraint("team_id", "email", name=op.f("uq_team_invitations_team_id")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_team_invitations_token_digest")),
    )
    op.create_index(
        op.f("ix_team_invitations_expires_at"), "team_invitations", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_team_invitations_invited_by_id"),
        "team_invitations",
        ["invited_by_id"],
        unique=False,
    )


def _personal_team_name(email: str, full_name: str | None) -> str:
    owner = full_name or email.partition("@")[0]
    return owner[: TEAM_NAME_MAX_LENGTH - len(PERSONAL_SUFFIX)] + PERSONAL_SUFFIX


def backfill_personal_teams(connection: sa.Connection) -> None:
    """A personal team for every user who has none, its owner's membership, and their current
    team. (The tests call it too, for users made without one.)"""
    now = datetime.now(UTC)
    has_one = sa.exists().where(teams.c.personal_user_id == users.c.id)
    last: uuid.UUID | None = None
    while True:
        page = (
            sa.select(users.c.id, users.c.email, users.c.full_name)
            .where(~has_one)
            .order_by(users.c.id)
        )
        if last is not None:
            page = page.where(users.c.id > last)
        rows = connection.execute(page.limit(BATCH)).all()
        if not rows:
            return
        made = [(user_id, uuid.uuid4(), email, full_name) for user_id, email, full_name in rows]
        connection.execute(
            teams.insert(),
            [
                {
                    "id": team_id,
                    "name": _personal_team_name(email, full_name),
                    "personal_user_id": user_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for user_id, team_id, email, full_name in made
            ],
        )
        connection.execute(
            memberships.insert(),
            [
                {"team_id": team_id, "user_id": user_id, "role": "owner", "joined_at": now}
                for user_id, team_id, _, _ in made
            ],
        )
        connection.execute(
            current_teams.insert(),
            [{"user_id": user_id, "team_id": team_id} for user_id, team_id, _, _ in made],
        )
        last = rows[-1].id


def upgrade() -> None:
    _create_tables()
    backfill_personal_teams(op.get_bind())


def downgrade() -> None:
    op.drop_table("team_invitations")
    op.drop_table("current_teams")
    op.drop_table("team_memberships")
    op.drop_table("teams")
