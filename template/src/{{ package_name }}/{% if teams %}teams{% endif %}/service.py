"""The rules of teams: who may change what, invitations, ownership, and what an account's life
means for its teams (a personal team at creation; no shared team left without its owner)."""

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditTrail
from ..core.config import Settings
from ..core.db import utcnow
from ..core.email import Outbox
from ..users.identity import normalize_email
from ..users.models import User
from ..users.repository import UserRepository
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
    OwnsSharedTeamError,
    PermissionDeniedError,
    PersonalTeamError,
    TeamNotFoundError,
    WrongInviteeError,
)
from .models import TEAM_NAME_MAX_LENGTH, Invitation, Membership, Team
from .permissions import Permission, Role, can
from .repository import InvitationRepository, TeamRepository
from .schemas import InvitationCreate, MemberRead, TeamRead


class TeamEvent(StrEnum):
    """The audit trail's events of teams: every change of who belongs to a team, and how."""

    TEAM_CREATED = "team_created"
    TEAM_RENAMED = "team_renamed"
    TEAM_DELETED = "team_deleted"
    MEMBER_JOINED = "team_member_joined"
    MEMBER_ROLE_CHANGED = "team_member_role_changed"
    MEMBER_REMOVED = "team_member_removed"
    MEMBER_LEFT = "team_member_left"
    OWNERSHIP_TRANSFERRED = "team_ownership_transferred"
    INVITATION_SENT = "team_invitation_sent"
    INVITATION_REVOKED = "team_invitation_revoked"


@dataclass(frozen=True, slots=True)
class Member:
    """A user in a team, with their role: what the team routes' dependencies check."""

    user: User
    team: Team
    role: Role


def team_read(team: Team, role: Role | str) -> TeamRead:
    return TeamRead(
        id=team.id,
        name=team.name,
        personal=team.is_personal,
        role=Role(role),
        created_at=team.created_at,
    )


def _member_read(user: User, membership: Membership) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=Role(membership.role),
        joined_at=membership.joined_at,
    )


def _in_team(team: Team) -> str:
    """The audit trail's note of which team an event is about."""
    return f"team {team.id}"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def find_member(db: AsyncSession, user: User, team_id: uuid.UUID) -> Member:
    """The user's membership of the team, checked now; a non-member learns nothing."""
    found = await TeamRepository(db).membership(team_id, user.id)
    if found is None:
        raise TeamNotFoundError
    team, role = found
    return Member(user, team, Role(role))


async def find_current_member(db: AsyncSession, user: User) -> Member:
    """The user's membership of their current team, checked now."""
    team_id = await TeamRepository(db).current_team_id(user.id)
    if team_id is None:
        raise TeamNotFoundError
    return await find_member(db, user, team_id)


async def _lock_as(db: AsyncSession, member: Member, permission: Permission) -> Membership:
    """Lock the team for a change of its members, and check the member's role again: a
    concurrent transfer or role change may have changed it since the request began. The
    member's own membership, as it is now."""
    teams = TeamRepository(db)
    await teams.lock(member.team.id)
    found = await teams.member(member.team.id, member.user.id, lock=True)
    if found is None:
        raise TeamNotFoundError
    _, membership = found
    if not can(Role(membership.role), permission):
        raise PermissionDeniedError
    return membership


async def _other_member(
    db: AsyncSession, member: Member, user_id: uuid.UUID
) -> tuple[User, Membership]:
    """Another member of the locked team, never its owner."""
    found = await TeamRepository(db).member(member.team.id, user_id, lock=True)
    if found is None:
        raise MemberNotFoundError
    user, membership = found
    if membership.role == Role.OWNER:
        raise OwnerProtectedError
    return user, membership


async def list_teams(db: AsyncSession, user: User) -> list[TeamRead]:
    return [team_read(team, role) for team, role in await TeamRepository(db).teams_of(user.id)]


async def create_team(db: AsyncSession, audit: AuditTrail, user: User, name: str) -> TeamRead:
    team = await TeamRepository(db).add(Team(name=name), owner_id=user.id)
    audit.record(TeamEvent.TEAM_CREATED, user_id=user.id, detail=_in_team(team))
    return team_read(team, Role.OWNER)


async def rename_team(db: AsyncSession, audit: AuditTrail, member: Member, name: str) -> TeamRead:
    member.team.name = name
    await db.flush()
    audit.record(TeamEvent.TEAM_RENAMED, user_id=member.user.id, detail=_in_team(member.team))
    return team_read(member.team, member.role)


async def delete_team(db: AsyncSession, audit: AuditTrail, member: Member) -> None:
    """Delete a team that is not personal; its memberships and invitations go with it, and
    its members' current team falls back to their personal team."""
    if member.team.is_personal:
        raise PersonalTeamError
    await _lock_as(db, member, Permission.DELETE_TEAM)
    teams = TeamRepository(db)
    for user, _ in await teams.members(member.team.id):
        audit.record(
            TeamEvent.TEAM_DELETED,
            user_id=user.id,
            actor_id=member.user.id,
            detail=_in_team(member.team),
        )
    await teams.delete(member.team)


async def switch_team(db: AsyncSession, member: Member) -> TeamRead:
    # Two switches of one user at once replace the choice one after the other.
    await UserRepository(db).lock(member.user.id)
    await TeamRepository(db).set_current_team(member.user.id, member.team.id)
    return team_read(member.team, member.role)


async def list_members(db: AsyncSession, member: Member) -> list[MemberRead]:
    rows = await TeamRepository(db).members(member.team.id)
    return [_member_read(user, membership) for user, membership in rows]


async def change_role(
    db: AsyncSession, audit: AuditTrail, member: Member, user_id: uuid.UUID, role: Role
) -> MemberRead:
    await _lock_as(db, member, Permission.MANAGE_MEMBERS)
    user, membership = await _other_member(db, member, user_id)
    previous, membership.role = membership.role, role.value
    await db.flush()
    audit.record(
        TeamEvent.MEMBER_ROLE_CHANGED,
        user_id=user_id,
        actor_id=member.user.id,
        detail=f"{_in_team(member.team)}: {previous} -> {role.value}",
    )
    return _member_read(user, membership)


async def remove_member(
    db: AsyncSession, audit: AuditTrail, outbox: Outbox, member: Member, user_id: uuid.UUID
) -> None:
    """Remove a member (never the owner); their current team falls back to the personal one."""
    await _lock_as(db, member, Permission.MANAGE_MEMBERS)
    removed, membership = await _other_member(db, member, user_id)
    await TeamRepository(db).remove_member(membership)
    audit.record(
        TeamEvent.MEMBER_REMOVED,
        user_id=user_id,
        actor_id=member.user.id,
        detail=_in_team(member.team),
    )
    outbox.send("team_member_removed", removed.email, team_name=member.team.name)


async def leave_team(db: AsyncSession, audit: AuditTrail, member: Member) -> None:
    """Any member but the owner leaves; their current team falls back to the personal one."""
    if member.team.is_personal:
        raise PersonalTeamError
    membership = await _lock_as(db, member, Permission.VIEW_TEAM)
    if membership.role == Role.OWNER:
        raise OwnerCannotLeaveError
    await TeamRepository(db).remove_member(membership)
    audit.record(TeamEvent.MEMBER_LEFT, user_id=member.user.id, detail=_in_team(member.team))


async def transfer_ownership(
    db: AsyncSession, audit: AuditTrail, outbox: Outbox, member: Member, user_id: uuid.UUID
) -> TeamRead:
    """The member becomes the owner; the owner stays, as an admin."""
    if user_id == member.user.id:
        raise AlreadyOwnerError
    owner = await _lock_as(db, member, Permission.TRANSFER_OWNERSHIP)
    heir, membership = await _other_member(db, member, user_id)
    membership.role, owner.role = Role.OWNER.value, Role.ADMIN.value
    await db.flush()
    audit.record(
        TeamEvent.OWNERSHIP_TRANSFERRED,
        user_id=user_id,
        actor_id=member.user.id,
        detail=_in_team(member.team),
    )
    outbox.send(
        "team_ownership_transferred",
        heir.email,
        team_name=member.team.name,
        previous_owner=member.user.full_name or member.user.email,
    )
    return team_read(member.team, Role.ADMIN)


async def invite(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    member: Member,
    request: InvitationCreate,
) -> Invitation:
    """Invite an address with a role; the token goes by email, only its digest is kept."""
    team = member.team
    if team.is_personal:
        raise PersonalTeamError
    email = normalize_email(request.email)
    teams = TeamRepository(db)
    # As every change of its members: an acceptance of the address's invitation either went
    # first, and made a member, or waits, and finds this invitation's predecessor pending.
    await teams.lock(team.id)
    if await teams.is_member_by_email(team.id, email):
        raise AlreadyMemberError
    invitations = InvitationRepository(db)
    now = utcnow()
    await invitations.delete_expired(team.id, email, now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        team_id=team.id,
        email=email,
        role=request.role.value,
        token_digest=_token_digest(token),
        invited_by_id=member.user.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.teams_invitation_expire_days),
    )
    if not await invitations.add(invitation):
        raise AlreadyInvitedError
    audit.record(
        TeamEvent.INVITATION_SENT,
        user_id=member.user.id,
        detail=f"{_in_team(team)}: invitation {invitation.id} as {request.role.value}",
    )
    outbox.send(
        "team_invitation",
        email,
        team_name=team.name,
        inviter=member.user.full_name or member.user.email,
        role=request.role.value,
        token=token,
        expire_days=settings.teams_invitation_expire_days,
    )
    return invitation


async def list_invitations(db: AsyncSession, member: Member) -> Sequence[Invitation]:
    return await InvitationRepository(db).pending(member.team.id, utcnow())


async def revoke_invitation(
    db: AsyncSession, audit: AuditTrail, member: Member, invitation_id: uuid.UUID
) -> None:
    if not await InvitationRepository(db).revoke(member.team.id, invitation_id):
        raise InvitationNotFoundError
    audit.record(
        TeamEvent.INVITATION_REVOKED,
        user_id=member.user.id,
        detail=f"{_in_team(member.team)}: invitation {invitation_id}",
    )


async def accept_invitation(
    db: AsyncSession, audit: AuditTrail, user: User, token: str
) -> TeamRead:
    """Join a team with the invited role: only the invited address, once verified, and only
    once, however many requests race with the token."""
    invitations = InvitationRepository(db)
    invitation = await invitations.by_digest(_token_digest(token))
    if invitation is None or invitation.expires_at <= utcnow():
        raise InvalidInvitationError
    if normalize_email(user.email) != invitation.email:
        raise WrongInviteeError
    if not user.is_verified:
        raise InviteeNotVerifiedError
    teams = TeamRepository(db)
    team_id, role = invitation.team_id, Role(invitation.role)
    # The team first, as every change of its members: one lock order, no deadlock.
    await teams.lock(team_id)
    if not await invitations.claim(invitation.id, utcnow()):
        raise InvalidInvitationError
    if await teams.member(team_id, user.id) is not None:
        raise AlreadyMemberError
    await teams.add_member(team_id, user.id, role)
    audit.record(
        TeamEvent.MEMBER_JOINED,
        user_id=user.id,
        detail=f"team {team_id}: invitation {invitation.id} as {role.value}",
    )
    return team_read(await teams.get(team_id), role)


def _personal_team_name(user: User) -> str:
    suffix = "'s team"
    owner = user.full_name or user.email.partition("@")[0]
    return owner[: TEAM_NAME_MAX_LENGTH - len(suffix)] + suffix


async def on_account_created(db: AsyncSession, user: User) -> None:
    """Every account gets its personal team, as its current team, in the transaction that
    creates it."""
    teams = TeamRepository(db)
    team = await teams.add(
        Team(name=_personal_team_name(user), personal_user_id=user.id), owner_id=user.id
    )
    await teams.set_current_team(user.id, team.id)


async def on_account_deleting(db: AsyncSession, user: User) -> None:
    """Refuse while the account owns a team with other members; otherwise its teams go (its
    memberships of other teams go with the account)."""
    teams = TeamRepository(db)
    if await teams.owns_a_team_with_others(user.id):
        raise OwnsSharedTeamError
    await teams.delete_owned_by(user.id)
