"""Who is calling: the bearer token resolved to an active user, checked on every request; and
the limit on password guesses, which every door to a password shares."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from ..core.config import Settings
from ..core.dependencies import DbDep, ResourcesDep, SettingsDep, ThrottleDep
from ..core.errors import AppError, RedisUnavailableError
from ..core.openapi import raises
from ..core.paths import LOGIN_URL
from ..core.ratelimit import Throttle
from ..core.revocation import is_revoked
from ..core.tokens import InvalidTokenError, TokenClaims, TokenType, decode_token
from .identity import account_key
from .models import User
from .repository import UserRepository
from .service import WrongPasswordError

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=LOGIN_URL, auto_error=False)
#: The rate-limit action shared by every door where a password can be guessed (sign-in,
#: password change, account deletion): guesses through any of them count together.
PASSWORD_ATTEMPTS = "password-attempts"  # noqa: S105 (a rate-limit name)


class NotAuthenticatedError(InvalidTokenError):
    code = "not_authenticated"
    message = "Sign in to use this endpoint."


class NotSuperuserError(AppError):
    status_code = 403
    code = "forbidden"
    message = "Only a superuser may do this."


@raises(NotAuthenticatedError, InvalidTokenError, RedisUnavailableError)
async def access_claims(
    token: Annotated[str | None, Depends(oauth2_scheme)], resources: ResourcesDep
) -> TokenClaims:
    """The claims of a valid access token that was neither logged out nor revoked."""
    # The resources themselves, not the settings and Redis getters: on every authenticated
    # request, each dependency FastAPI resolves costs about 0.05 ms.
    if token is None:
        raise NotAuthenticatedError
    claims = decode_token(resources.settings, token, TokenType.ACCESS)
    if claims.session_id is None or await is_revoked(resources.redis, claims):
        raise InvalidTokenError
    return claims


AccessClaims = Annotated[TokenClaims, Depends(access_claims)]


@raises(InvalidTokenError)
async def current_user(claims: AccessClaims, db: DbDep) -> User:
    user = await UserRepository(db).get_signed_in(claims.user_id, claims.version)
    if user is None:
        raise InvalidTokenError
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@raises(NotSuperuserError)
async def current_superuser(user: CurrentUser) -> User:
    if not user.is_superuser:
        raise NotSuperuserError
    return user


CurrentSuperuser = Annotated[User, Depends(current_superuser)]


def password_guess(
    settings: Settings,
    throttle: Throttle,
    email: str,
    wrong: type[Exception] = WrongPasswordError,
) -> AbstractAsyncContextManager[None]:
    """A password checked within the block, against the account's limit whether or not it
    exists: it stays counted when the block raises `wrong` (see `Throttle.guessing`)."""
    return throttle.guessing(
        settings.rate_limit_login_per_email, PASSWORD_ATTEMPTS, account_key(email), wrong
    )


async def password_attempt(
    user: CurrentUser, settings: SettingsDep, throttle: ThrottleDep
) -> AsyncIterator[None]:
    """A route that checks the signed-in user's password: the try counts while the route runs,
    and stays counted when the password was wrong."""
    async with password_guess(settings, throttle, user.email):
        yield


#: For a route that checks the signed-in user's password, in its `dependencies`. The function
#: scope ends the guess before the answer is sent: the next request finds a right one given back.
PasswordAttempt = Depends(password_attempt, scope="function")
