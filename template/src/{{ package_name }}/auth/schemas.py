"""Request and response bodies of the auth endpoints."""

from typing import Literal

from pydantic import BaseModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    #: Seconds until the access token expires.
    expires_in: int
