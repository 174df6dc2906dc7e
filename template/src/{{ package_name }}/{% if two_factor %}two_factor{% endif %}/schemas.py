"""Request and response bodies of the two-factor endpoints."""

from typing import Self

from pydantic import BaseModel, Field, model_validator

from ..users.schemas import PASSWORD_MAX_LENGTH

#: Room for a code typed with spaces or dashes; junk stops here, before any work.
_CODE_MAX_LENGTH = 32
#: A challenge token is a JWT of a few hundred characters.
_TOKEN_MAX_LENGTH = 4096


class TwoFactorStatus(BaseModel):
    enabled: bool
    backup_codes_left: int


class SetupRequest(BaseModel):
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class Setup(BaseModel):
    """What an authenticator app needs: the secret to type, or the URI its camera reads."""

    secret: str
    otpauth_uri: str
    #: The QR code of `otpauth_uri`, as an SVG data URI for an `<img src>`.
    qr_svg: str


class TotpCode(BaseModel):
    """A code from the authenticator app."""

    code: str = Field(max_length=_CODE_MAX_LENGTH)


class SecondFactor(BaseModel):
    """A code from the app, or a backup code: exactly one of them."""

    code: str | None = Field(default=None, max_length=_CODE_MAX_LENGTH)
    backup_code: str | None = Field(default=None, max_length=_CODE_MAX_LENGTH)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.code is None) == (self.backup_code is None):
            msg = "give either code or backup_code"
            raise ValueError(msg)
        return self


class Verification(SecondFactor):
    mfa_token: str = Field(max_length=_TOKEN_MAX_LENGTH)


class Disabling(SecondFactor):
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class BackupCodes(BaseModel):
    """Shown once: only their HMACs are kept."""

    backup_codes: list[str]
