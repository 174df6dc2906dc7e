"""The errors of teams, each with its status, code and message: what the service raises and
the routes document (see `core/errors.py`)."""

from ..core.errors import AppError, ConflictError


class TeamNotFoundError(AppError):
    """Also the answer to a non-member: a team's id tells nobody outside it anything."""

    status_code = 404
    code = "team_not_found"
    message = "There is no team with this id among yours."


class PermissionDeniedError(AppError):
    status_code = 403
    code = "permission_denied"
    message = "Your role in this team does not allow this."


class MemberNotFoundError(AppError):
    status_code = 404
    code = "member_not_found"
    message = "This user is not a member of the team."


class InvitationNotFoundError(AppError):
    status_code = 404
    code = "invitation_not_found"
    message = "The team has no pending invitation with this id."


class PersonalTeamError(ConflictError):
    code = "personal_team"
    message = "A personal team is its owner's alone: it cannot be deleted, left or shared."


class OwnerCannotLeaveError(ConflictError):
    code = "owner_cannot_leave"
    message = "The owner cannot leave the team; transfer its ownership to a member first."


class OwnerProtectedError(ConflictError):
    code = "owner_protected"
    message = (
        "The owner cannot be removed nor given another role; "
        "ownership moves only through transfer-ownership."
    )


class AlreadyOwnerError(ConflictError):
    code = "already_owner"
    message = "You own this team already; transfer it to another member."


class AlreadyMemberError(ConflictError):
    code = "already_member"
    message = "This address belongs to a member of the team already."


class AlreadyInvitedError(ConflictError):
    code = "already_invited"
    message = "This address has a pending invitation to the team; revoke it to send another."


class InvalidInvitationError(AppError):
    status_code = 400
    code = "invalid_invitation"
    message = "The invitation is unknown, used, revoked or expired; ask for a new one."


class WrongInviteeError(AppError):
    status_code = 403
    code = "wrong_invitee"
    message = "This invitation is for another email address; sign in with that one to accept it."


class InviteeNotVerifiedError(AppError):
    status_code = 403
    code = "email_not_verified"
    message = "Verify your email address before you accept an invitation."


class OwnsSharedTeamError(ConflictError):
    code = "owns_shared_team"
    message = (
        "This account owns a team with other members: transfer its ownership, "
        "or remove its members, before the account can be deleted."
    )
