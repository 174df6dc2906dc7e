"""What team routes check before their handlers run, for the feature's routes and your own:
the caller's membership of the team in the path (`TeamMember`), of their current team
(`CurrentTeamMember`), a permission of their role (`require_permission`), and the rate limit on
invitations. Membership is read from the database on every request, never from a token."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from ..core.dependencies import DbDep, SettingsDep, ThrottleDep
from ..core.openapi import raises
from ..users.dependencies import CurrentUser
from .errors import PermissionDeniedError, TeamNotFoundError
from .permissions import Permission, can
from .service import Member, find_current_member, find_member


@raises(TeamNotFoundError)
async def valid_team_member(team_id: uuid.UUID, user: CurrentUser, db: DbDep) -> Member:
    """The caller in the team of the path; 404 for a non-member, as for a team that does not
    exist, so that a team's id tells an outsider nothing."""
    return await find_member(db, user, team_id)


@raises(TeamNotFoundError)
async def current_team_member(user: CurrentUser, db: DbDep) -> Member:
    """The caller in their current team (see POST /teams/{team_id}/switch)."""
    return await find_current_member(db, user)


TeamMember = Annotated[Member, Depends(valid_team_member)]
CurrentTeamMember = Annotated[Member, Depends(current_team_member)]


def require_permission(
    permission: Permission, member: Callable[..., Awaitable[Member]] = valid_team_member
) -> Callable[..., Awaitable[Member]]:
    """A dependency: the caller in the team (by default, the team of the path, or pass
    `current_team_member`), whose role has the permission; 403 otherwise."""

    @raises(PermissionDeniedError)
    async def dependency(caller: Annotated[Member, Depends(member)]) -> Member:
        if not can(caller.role, permission):
            raise PermissionDeniedError
        return caller

    return dependency


#: The caller in the team of the path, with the permission: what the feature's routes take.
Updater = Annotated[Member, Depends(require_permission(Permission.UPDATE_TEAM))]
Deleter = Annotated[Member, Depends(require_permission(Permission.DELETE_TEAM))]
MemberManager = Annotated[Member, Depends(require_permission(Permission.MANAGE_MEMBERS))]
Inviter = Annotated[Member, Depends(require_permission(Permission.MANAGE_INVITATIONS))]
Transferrer = Annotated[Member, Depends(require_permission(Permission.TRANSFER_OWNERSHIP))]


async def invitation_attempt(member: Inviter, settings: SettingsDep, throttle: ThrottleDep) -> None:
    """An invitation sent, counted per inviter: invitations are email the service sends to
    any address it is given."""
    await throttle.per_key(
        settings.rate_limit_invitations_per_user, "team-invitations", f"user:{member.user.id}"
    )
