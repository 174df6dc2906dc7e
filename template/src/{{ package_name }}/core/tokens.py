"""Signed tokens (JWT) with a pinned algorithm and every registered claim checked."""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache

import jwt

from .config import Settings
from .db import utcnow
from .errors import AppError

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "typ", "jti", "ver", "iat", "exp", "iss", "aud"]
#: How many verified tokens a process remembers (under a kilobyte each): about as many as the
#: clients that call it within an access token's lifetime.
VERIFIED_TOKENS_KEPT = 4096


class TokenType(StrEnum):
    ACCESS = "access"
    #: A sign-in step's challenge (`auth/steps.py`): it opens that step's endpoint, nothing else.
    SIGN_IN_CHALLENGE = "sign_in_challenge"


class InvalidTokenError(AppError):
    status_code = 401
    code = "invalid_token"
    message = "The token is invalid or has expired."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    token_type: TokenType
    token_id: str
    version: int
    expires_at: int
    #: The sign-in session (refresh family) an access token belongs to.
    session_id: str | None = None

    @property
    def user_id(self) -> uuid.UUID:
        """The subject as the user's id: the decoder refused any subject that is not a UUID."""
        return uuid.UUID(self.subject)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    claims: TokenClaims
    expires_in: int


def issue_token(
    settings: Settings,
    *,
    subject: str,
    token_type: TokenType,
    version: int,
    lifetime: timedelta,
    session_id: str | None = None,
) -> IssuedToken:
    issued_at = utcnow()
    expires_at = issued_at + lifetime
    claims = TokenClaims(
        subject=subject,
        token_type=token_type,
        token_id=uuid.uuid4().hex,
        version=version,
        expires_at=int(expires_at.timestamp()),
        session_id=session_id,
    )
    payload: dict[str, object] = {
        "sub": claims.subject,
        "typ": claims.token_type.value,
        "jti": claims.token_id,
        "ver": claims.version,
        "iat": issued_at,
        "exp": expires_at,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    if session_id is not None:
        payload["sid"] = session_id
    token = jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return IssuedToken(token, claims, int(lifetime.total_seconds()))


def _is_uuid(value: object) -> bool:
    """Whether a claim names a user or a session: both are UUIDs, checked here so that no code
    past the decoder meets a malformed one."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> TokenClaims:
    """The token's claims, or `InvalidTokenError` for anything forged, expired or misplaced, and
    for any claim of the wrong type: a token signed with the key is still checked claim by
    claim.

    A client sends the same access token with every request until it expires, and checking it
    again is about a tenth of a cheap request's time. So a token that passed is remembered (by
    its exact text, under the key, audience, issuer and type it passed with), and only its
    expiry, the one check that changes with time, runs again. Revocation and the token's
    version are not claims: the caller checks them on every request.
    """
    claims = _verified(
        token,
        settings.secret_key.get_secret_value(),
        settings.jwt_audience,
        settings.jwt_issuer,
        expected_type,
    )
    if claims.expires_at <= time.time():  # as PyJWT decides it, with no leeway
        raise InvalidTokenError
    return claims


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified(
    token: str, key: str, audience: str, issuer: str, expected_type: TokenType
) -> TokenClaims:
    """Every check of the token's signature and claims; a refusal raises, so it is never kept."""
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError from exc
    subject, token_type, token_id, version, session_id = (
        payload["sub"],
        payload["typ"],
        payload["jti"],
        payload["ver"],
        payload.get("sid"),
    )
    if (
        token_type != expected_type
        or not _is_uuid(subject)
        or not isinstance(token_id, str)
        or type(version) is not int
        or not (session_id is None or _is_uuid(session_id))
    ):
        raise InvalidTokenError
    return TokenClaims(
        subject, TokenType(token_type), token_id, version, payload["exp"], session_id
    )
