"""Endpoints under /teams and /invitations: each translates HTTP to one call of the service.
What a route needs is checked by its dependencies: membership, then the role's permission."""

import uuid

from fastapi import APIRouter, Depends, status

from ..core.dependencies import AuditTrailDep, DbDep, OutboxDep, SettingsDep
from ..core.openapi import raises
from ..users.dependencies import CurrentUser
from ..users.profile import ProfileSection
from . import service
from .dependencies import (
    Deleter,
    Inviter,
    MemberManager,
    TeamMember,
    Transferrer,
    Updater,
    invitation_attempt,
)
from .errors import (
    AlreadyInvitedError,
    AlreadyMemberError,
    AlreadyOwnerError,
    InvalidInvitationError,
    InvitationNotFoundError,
    InviteeNotVerifiedError,
    MemberNotFoundError,
    OwnerCannotLeaveError,
    OwnerProtectedError,
    PermissionDeniedError,
    PersonalTeamError,
    WrongInviteeError,
)
from .repository import CURRENT_TEAM_ID_OF_USER
from .schemas import (
    CurrentTeamProfile,
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    MemberRead,
    OwnershipTransfer,
    RoleChange,
    TeamFields,
    TeamRead,
)

router = APIRouter(tags=["teams"])
#: The routes of one team: the team's id is in the path, and every route checks through its
#: dependencies that the caller is a member (`TeamMember`) with the permission it needs.
team = APIRouter(prefix="/teams/{team_id}")

#: What teams add to /users/me: the current team, a column of the profile's one statement.
PROFILE_SECTION = ProfileSection(CurrentTeamProfile, (CURRENT_TEAM_ID_OF_USER,))


@router.get("/teams")
async def list_teams(user: CurrentUser, db: DbDep) -> list[TeamRead]:
    """The teams I belong to, with my role in each; my personal team first."""
    return await service.list_teams(db, user)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(
    fields: TeamFields, user: CurrentUser, db: DbDep, audit: AuditTrailDep
) -> TeamRead:
    """Create a team; I am its owner."""
    return await service.create_team(db, audit, user, fields.name)


@team.get("")
async def read_team(member: TeamMember) -> TeamRead:
    return service.team_read(member.team, member.role)


@team.patch("")
async def update_team(
    fields: TeamFields, member: Updater, db: DbDep, audit: AuditTrailDep
) -> TeamRead:
    return await service.rename_team(db, audit, member, fields.name)


@team.delete("", status_code=status.HTTP_204_NO_CONTENT)
@raises(PersonalTeamError, PermissionDeniedError)
async def delete_team(member: Deleter, db: DbDep, audit: AuditTrailDep) -> None:
    """Delete the team, its memberships and invitations; not a personal team."""
    await service.delete_team(db, audit, member)


@team.post("/switch")
async def switch_team(member: TeamMember, db: DbDep) -> TeamRead:
    """Make it my current team (`current_team_id` on /users/me)."""
    return await service.switch_team(db, member)


@team.get("/members")
async def list_members(member: TeamMember, db: DbDep) -> list[MemberRead]:
    return await service.list_members(db, member)


@team.patch("/members/{user_id}")
@raises(PermissionDeniedError, MemberNotFoundError, OwnerProtectedError)
async def change_role(
    user_id: uuid.UUID, change: RoleChange, member: MemberManager, db: DbDep, audit: AuditTrailDep
) -> MemberRead:
    """Give a member another role; never the owner's, and not to the owner."""
    return await service.change_role(db, audit, member, user_id, change.role)


@team.delete("/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
@raises(PermissionDeniedError, MemberNotFoundError, OwnerProtectedError)
async def remove_member(
    user_id: uuid.UUID, member: MemberManager, db: DbDep, audit: AuditTrailDep, outbox: OutboxDep
) -> None:
    """Remove a member, who is told by email; never the owner."""
    await service.remove_member(db, audit, outbox, member, user_id)


@team.post("/leave", status_code=status.HTTP_204_NO_CONTENT)
@raises(PersonalTeamError, OwnerCannotLeaveError, PermissionDeniedError)
async def leave_team(member: TeamMember, db: DbDep, audit: AuditTrailDep) -> None:
    """Leave the team: any member but the owner, and not a personal team."""
    await service.leave_team(db, audit, member)


@team.post("/transfer-ownership")
@raises(AlreadyOwnerError, PermissionDeniedError, MemberNotFoundError, OwnerProtectedError)
async def transfer_ownership(
    transfer: OwnershipTransfer,
    member: Transferrer,
    db: DbDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> TeamRead:
    """Make another member the owner; I stay, as an admin."""
    return await service.transfer_ownership(db, audit, outbox, member, transfer.user_id)


@team.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(invitation_attempt)],
)
@raises(PersonalTeamError, AlreadyMemberError, AlreadyInvitedError)
async def invite(
    request: InvitationCreate,
    member: Inviter,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> InvitationRead:
    """Invite an address with a role; it gets a single-use token by email, which expires."""
    invitation = await service.invite(db, settings, audit, outbox, member, request)
    return InvitationRead.model_validate(invitation)


@team.get("/invitations")
async def list_invitations(member: Inviter, db: DbDep) -> list[InvitationRead]:
    """The pending invitations."""
    invitations = await service.list_invitations(db, member)
    return [InvitationRead.model_validate(invitation) for invitation in invitations]


@team.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
@raises(InvitationNotFoundError)
async def revoke_invitation(
    invitation_id: uuid.UUID, member: Inviter, db: DbDep, audit: AuditTrailDep
) -> None:
    await service.revoke_invitation(db, audit, member, invitation_id)


@router.post("/invitations/accept")
@raises(InvalidInvitationError, WrongInviteeError, InviteeNotVerifiedError, AlreadyMemberError)
async def accept_invitation(
    body: InvitationAccept, user: CurrentUser, db: DbDep, audit: AuditTrailDep
) -> TeamRead:
    """Join the team as invited: the signed-in user whose verified email was invited."""
    return await service.accept_invitation(db, audit, user, body.token)


# Last: a router's routes are copied when it is included.
router.include_router(team)
