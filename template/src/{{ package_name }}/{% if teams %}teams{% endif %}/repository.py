"""Database access for teams: teams, memberships, current teams and invitations. All of the
feature's SQL is here. Flushes, never commits: the request owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    Row,
    and_,
    bindparam,
    delete,
    exists,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..core.cleanup import Expired
from ..core.config import Settings
from ..core.repository import Repository
from ..users.models import User
from .models import CurrentTeam, Invitation, Membership, Team
from .permissions import Role


def _current_team_id(user_id: ColumnExpressionArgument[uuid.UUID]) -> ColumnElement[uuid.UUID]:
    """The team the user chose, or their personal team when the choice is gone."""
    return func.coalesce(
        select(CurrentTeam.team_id).where(CurrentTeam.user_id == user_id).scalar_subquery(),
        select(Team.id).where(Team.personal_user_id == user_id).scalar_subquery(),
    )


#: Built once, as every route on the current team reads it: building a statement and its
#: cache key costs about 0.1 ms.
_CURRENT_TEAM_ID = select(_current_team_id(bindparam("user_id")))
#: What teams add to /users/me, as a column of the user's row: the profile is one statement.
CURRENT_TEAM_ID_OF_USER = _current_team_id(User.id).label("current_team_id")


class TeamRepository(Repository):
    async def add(self, team: Team, owner_id: uuid.UUID) -> Team:
        """A new team, with its owner's membership."""
        self.db.add(team)
        await self.db.flush()
        await self.add_member(team.id, owner_id, Role.OWNER)
        return team

    async def add_member(self, team_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> None:
        self.db.add(Membership(team_id=team_id, user_id=user_id, role=role.value))
        await self.db.flush()

    async def get(self, team_id: uuid.UUID) -> Team:
        return await self.db.get_one(Team, team_id)

    async def membership(self, team_id: uuid.UUID, user_id: uuid.UUID) -> Row[Team, str] | None:
        """The team and the user's role in it, if the user is a member."""
        rows = await self.db.execute(
            select(Team, Membership.role)
            .join(Membership, Membership.team_id == Team.id)
            .where(Team.id == team_id, Membership.user_id == user_id)
        )
        return rows.first()

    async def lock(self, team_id: uuid.UUID) -> None:
        """Hold the team's row until the transaction ends: concurrent changes to its members
        (a transfer, a role change, a removal) wait for each other."""
        await self.db.execute(select(Team.id).where(Team.id == team_id).with_for_update())

    async def teams_of(self, user_id: uuid.UUID) -> Sequence[Row[Team, str]]:
        """The user's teams and role in each: the personal team first, then by name."""
        rows = await self.db.execute(
            select(Team, Membership.role)
            .join(Membership, Membership.team_id == Team.id)
            .where(Membership.user_id == user_id)
            .order_by(Team.personal_user_id.is_(None), Team.name, Team.id)
        )
        return rows.all()

    async def members(self, team_id: uuid.UUID) -> Sequence[Row[User, Membership]]:
        """The team's members, oldest first."""
        rows = await self.db.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team_id)
            .order_by(Membership.joined_at, User.id)
        )
        return rows.all()

    async def member(
        self, team_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False
    ) -> Row[User, Membership] | None:
        """One member of the team, if the user is one; with `lock`, as the database holds it
        now (after `lock` of the team: MySQL's plain reads keep the transaction's snapshot)."""
        query = (
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team_id, Membership.user_id == user_id)
        )
        if lock:
            query = query.with_for_update(of=Membership).execution_options(populate_existing=True)
        return (await self.db.execute(query)).first()

    async def is_member_by_email(self, team_id: uuid.UUID, email: str) -> bool:
        """Whether the address is a member's, as the database holds it now (a locking read:
        after `lock` of the team, MySQL's plain reads keep the transaction's snapshot)."""
        found = await self.db.scalar(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.team_id == team_id, User.email == email)
            .with_for_update(read=True, of=Membership)
        )
        return found is not None

    async def remove_member(self, membership: Membership) -> None:
        """The membership goes; so does the user's choice of the team as current team."""
        await self.db.delete(membership)
        await self.db.flush()

    async def delete(self, team: Team) -> None:
        """Its memberships, invitations and the current teams that named it go with it (ON
        DELETE CASCADE)."""
        await self.db.delete(team)
        await self.db.flush()

    async def current_team_id(self, user_id: uuid.UUID) -> uuid.UUID | None:
        """The team the user chose, or their personal team when the choice is gone."""
        return await self.db.scalar(_CURRENT_TEAM_ID, {"user_id": user_id})

    async def set_current_team(self, user_id: uuid.UUID, team_id: uuid.UUID) -> None:
        """Make it the user's current team (the caller holds the user's row lock)."""
        await self.db.execute(delete(CurrentTeam).where(CurrentTeam.user_id == user_id))
        self.db.add(CurrentTeam(user_id=user_id, team_id=team_id))
        await self.db.flush()

    async def owns_a_team_with_others(self, user_id: uuid.UUID) -> bool:
        """Whether the user owns a team that has another member."""
        owned, other = aliased(Membership), aliased(Membership)
        found = await self.db.scalar(
            select(
                exists()
                .where(owned.user_id == user_id, owned.role == Role.OWNER.value)
                .where(and_(other.team_id == owned.team_id, other.user_id != user_id))
            )
        )
        return bool(found)

    async def delete_owned_by(self, user_id: uuid.UUID) -> None:
        """Delete the teams the user owns (with everything that hangs on them)."""
        owned = select(Membership.team_id).where(
            Membership.user_id == user_id, Membership.role == Role.OWNER.value
        )
        # Materialised first: MySQL cannot delete from a table a subquery of it reads.
        team_ids = list(await self.db.scalars(owned))
        if team_ids:
            await self.db.execute(delete(Team).where(Team.id.in_(team_ids)))


class InvitationRepository(Repository):
    async def add(self, invitation: Invitation) -> bool:
        """Store it; False when the team already has a pending invitation for the address."""
        try:
            # A savepoint: when a concurrent request invited the address first, only this
            # insert fails.
            async with self.db.begin_nested():
                self.db.add(invitation)
                await self.db.flush()
        except IntegrityError:
            return False
        return True

    async def delete_expired(self, team_id: uuid.UUID, email: str, now: datetime) -> None:
        """An expired invitation makes way for a new one before the clean-up removes it."""
        await self.db.execute(
            delete(Invitation).where(
                Invitation.team_id == team_id,
                Invitation.email == email,
                Invitation.expires_at <= now,
            )
        )

    async def pending(self, team_id: uuid.UUID, now: datetime) -> Sequence[Invitation]:
        rows = await self.db.scalars(
            select(Invitation)
            .where(Invitation.team_id == team_id, Invitation.expires_at > now)
            .order_by(Invitation.created_at, Invitation.id)
        )
        return rows.all()

    async def by_digest(self, digest: str) -> Invitation | None:
        return await self.db.scalar(select(Invitation).where(Invitation.token_digest == digest))

    async def claim(self, invitation_id: uuid.UUID, now: datetime) -> bool:
        """Spend a live invitation, atomically: of two requests racing with it, exactly one
        deletes it, and only that one may go on."""
        claimed = await self.db.execute(
            delete(Invitation).where(Invitation.id == invitation_id, Invitation.expires_at > now)
        )
        return self._rowcount(claimed) == 1

    async def revoke(self, team_id: uuid.UUID, invitation_id: uuid.UUID) -> bool:
        """Delete the team's invitation, atomically: of a revocation and an acceptance racing
        with it, exactly one deletes it, and only that one may go on."""
        revoked = await self.db.execute(
            delete(Invitation).where(Invitation.id == invitation_id, Invitation.team_id == team_id)
        )
        return self._rowcount(revoked) == 1


def expired_invitations(settings: Settings, now: datetime) -> list[Expired]:
    """The teams' clean-up: invitations past the expiry written on each."""
    return [Expired("team_invitations", delete(Invitation).where(Invitation.expires_at < now))]
