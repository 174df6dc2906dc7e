"""Who is calling: the bearer token resolved to an active user, checked on every request."""

import uuid
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from ..core.dependencies import SessionDep, SettingsDep
from ..core.tokens import InvalidTokenError, TokenType, decode_token
from .models import User
from .repository import UserRepository

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


class NotAuthenticatedError(InvalidTokenError):
    code = "not_authenticated"
    message = "Sign in to use this endpoint."


async def current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
) -> User:
    if token is None:
        raise NotAuthenticatedError
    claims = decode_token(settings, token, TokenType.ACCESS)
    try:
        user_id = uuid.UUID(claims.subject)
    except ValueError as exc:
        raise InvalidTokenError from exc
    user = await UserRepository(session).get(user_id)
    if user is None or not user.is_active or user.token_version != claims.version:
        raise InvalidTokenError
    return user


CurrentUser = Annotated[User, Depends(current_user)]
