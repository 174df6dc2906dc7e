"""Request and response bodies of the team endpoints."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from ..users.models import EMAIL_MAX_LENGTH
from ..users.schemas import printable
from .models import TEAM_NAME_MAX_LENGTH
from .permissions import ASSIGNABLE_ROLES, Role

#: Invitation tokens are 43 characters; the bound keeps junk out before it is hashed.
_TOKEN_MAX_LENGTH = 128


def _assignable(role: Role) -> Role:
    if role not in ASSIGNABLE_ROLES:
        msg = "a team has one owner: ownership moves only through transfer-ownership"
        raise ValueError(msg)
    return role


TeamName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TEAM_NAME_MAX_LENGTH),
    AfterValidator(printable),
]
#: A role a member can be given: any but the owner's.
AssignableRole = Annotated[Role, AfterValidator(_assignable)]


class TeamFields(BaseModel):
    """What a team is made or renamed with."""

    model_config = ConfigDict(extra="forbid")

    name: TeamName


class TeamRead(BaseModel):
    """A team as one of its members sees it, with their role in it."""

    id: uuid.UUID
    name: str
    #: The member's personal team: theirs alone, never deleted, left or shared.
    personal: bool
    role: Role
    created_at: datetime


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str | None
    role: Role
    joined_at: datetime


class RoleChange(BaseModel):
    role: AssignableRole


class OwnershipTransfer(BaseModel):
    user_id: uuid.UUID


class InvitationCreate(BaseModel):
    email: EmailStr = Field(max_length=EMAIL_MAX_LENGTH)
    role: AssignableRole = Role.MEMBER


class InvitationRead(BaseModel):
    """A pending invitation; its token is only ever in the invitee's email."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    team_id: uuid.UUID
    email: str
    role: Role
    invited_by_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime


class InvitationAccept(BaseModel):
    token: str = Field(max_length=_TOKEN_MAX_LENGTH)


class CurrentTeamProfile(BaseModel):
    """What teams add to /users/me."""

    #: None only for an account made while teams were not plugged in (a test's own set-up).
    current_team_id: uuid.UUID | None
