"""Teams, who belongs to them with which role, the invitations to join them, and each user's
current team. The users table knows none of it: every link to a user is held on this side."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, TimestampMixin, utcnow
from ..users.models import EMAIL_TYPE

TEAM_NAME_MAX_LENGTH = 100
ROLE_MAX_LENGTH = 16


class Team(TimestampMixin, Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(TEAM_NAME_MAX_LENGTH))
    #: The user whose personal team this is (one each, made with the account, gone with it);
    #: None for a team made to work with others.
    personal_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )

    @property
    def is_personal(self) -> bool:
        return self.personal_user_id is not None


class Membership(Base):
    """A user in a team, with a role (`permissions.Role`); a team has exactly one owner."""

    __tablename__ = "team_memberships"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(ROLE_MAX_LENGTH))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CurrentTeam(Base):
    """The team a user works in. It refers to the user's membership, so it can only name a team
    the user belongs to, and it goes with the membership (a user who leaves, is removed or whose
    team is deleted): no row means the personal team."""

    __tablename__ = "current_teams"
    __table_args__ = (
        ForeignKeyConstraint(
            ["team_id", "user_id"],
            ["team_memberships.team_id", "team_memberships.user_id"],
            ondelete="CASCADE",
        ),
        # The index a foreign key needs on MySQL, declared so that both engines have it.
        Index(None, "team_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID]


class Invitation(Base):
    """An invitation to join a team with a role, by email, until it expires; one pending
    invitation per team and address. Accepting or revoking it deletes it."""

    __tablename__ = "team_invitations"
    __table_args__ = (UniqueConstraint("team_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    #: As `users.identity.normalize_email` spells it, compared exactly like the users' address.
    email: Mapped[str] = mapped_column(EMAIL_TYPE)
    role: Mapped[str] = mapped_column(String(ROLE_MAX_LENGTH))
    #: SHA-256 of the token: it has 256 random bits, so no salt or slow hash is needed.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
