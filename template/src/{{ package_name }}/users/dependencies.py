"""Who is calling: the bearer token resolved to an active user, checked on every request."""

import uuid
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from ..core.dependencies import RedisDep, SessionDep, SettingsDep
from ..core.errors import AppError
from ..core.revocation import is_revoked
from ..core.tokens import InvalidTokenError, TokenClaims, TokenType, decode_token
from .models import User
from .repository import UserRepository

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


class NotAuthenticatedError(InvalidTokenError):
    code = "not_authenticated"
    message = "Sign in to use this endpoint."


class NotSuperuserError(AppError):
    status_code = 403
    code = "forbidden"
    message = "Only a superuser may do this."


async def access_claims(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    settings: SettingsDep,
    redis: RedisDep,
) -> TokenClaims:
    """The claims of a valid access token that was neither logged out nor revoked."""
    if token is None:
        raise NotAuthenticatedError
    claims = decode_token(settings, token, TokenType.ACCESS)
    if claims.session_id is None or await is_revoked(redis, claims):
        raise InvalidTokenError
    return claims


AccessClaims = Annotated[TokenClaims, Depends(access_claims)]


async def current_user(claims: AccessClaims, session: SessionDep) -> User:
    try:
        user_id = uuid.UUID(claims.subject)
    except ValueError as exc:
        raise InvalidTokenError from exc
    user = await UserRepository(session).get(user_id)
    if user is None or not user.is_active or user.token_version != claims.version:
        raise InvalidTokenError
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_superuser(user: CurrentUser) -> User:
    if not user.is_superuser:
        raise NotSuperuserError
    return user


CurrentSuperuser = Annotated[User, Depends(current_superuser)]
