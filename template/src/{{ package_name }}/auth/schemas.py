"""Request and response bodies of the auth endpoints."""

from typing import Literal, Self

from pydantic import BaseModel, EmailStr, Field

from ..users.models import EMAIL_MAX_LENGTH
from ..users.schemas import PASSWORD_MAX_LENGTH, FullName
from .sessions import TokenPair

#: Codes are digits; the bound keeps junk out before it reaches the database.
_CODE_MAX_LENGTH = 32
#: Refresh tokens are 43 characters; room for a JWT too, so that one sent by mistake gets the
#: contract's 401 for a token of the wrong type rather than a 422.
_TOKEN_MAX_LENGTH = 4096


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    #: Seconds until the access token expires.
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> Self:
        return cls(
            access_token=pair.access.token,
            refresh_token=pair.refresh_token,
            expires_in=pair.access.expires_in,
        )


class Accepted(BaseModel):
    """The answer that reveals nothing: the same whether or not the address has an account."""

    message: str


class Done(BaseModel):
    message: str


class LoginForm(BaseModel):
    """The OAuth2 password flow's form (RFC 6749 4.3): `username` is the account's email. The
    flow's other fields (scope, client credentials) mean nothing here and are ignored."""

    grant_type: Literal["password"] | None = None
    username: str = Field(max_length=EMAIL_MAX_LENGTH)
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class Registration(BaseModel):
    email: EmailStr = Field(max_length=EMAIL_MAX_LENGTH)
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    full_name: FullName | None = None


class EmailAddress(BaseModel):
    email: str = Field(max_length=EMAIL_MAX_LENGTH)


class EmailCode(EmailAddress):
    code: str = Field(max_length=_CODE_MAX_LENGTH)


class PasswordReset(EmailCode):
    new_password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    new_password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=_TOKEN_MAX_LENGTH)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=_TOKEN_MAX_LENGTH)
