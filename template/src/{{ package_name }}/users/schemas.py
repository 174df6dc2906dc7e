"""What the API shows of a user (never a password hash), and what it accepts to change one."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

FULL_NAME_MAX_LENGTH = 255
#: The longest password the policy accepts; every password field says so in its schema, so the
#: API's document tells clients the real limit (the policy checks it again for the CLI).
PASSWORD_MAX_LENGTH = 128


def printable(value: str) -> str:
    """A validator for names people type: no control characters."""
    if not value.isprintable():
        msg = "must not contain control characters"
        raise ValueError(msg)
    return value


#: A person's name as shown: printable characters only.
FullName = Annotated[str, Field(max_length=FULL_NAME_MAX_LENGTH), AfterValidator(printable)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_verified: bool
    is_superuser: bool
    created_at: datetime


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None


class UserUpdate(ProfileUpdate):
    """What a superuser may change on an account; a field left out is left alone."""

    is_active: bool | None = None
    is_verified: bool | None = None
    is_superuser: bool | None = None

    @field_validator("is_active", "is_verified", "is_superuser")
    @classmethod
    def _refuse_null(cls, value: bool | None) -> bool:
        # Left out means unchanged; null is no value a flag can take.
        if value is None:
            msg = "must be true or false, or left out"
            raise ValueError(msg)
        return value


class PasswordConfirmation(BaseModel):
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)
