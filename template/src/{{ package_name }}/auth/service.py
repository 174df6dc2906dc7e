"""Signing in: credentials checked in constant-looking time, tokens issued."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.config import Settings
from ..core.errors import AppError
from ..core.passwords import burn_verification_time, verify_password
from ..core.tokens import IssuedToken, TokenType, issue_token
from ..users.models import User
from ..users.repository import UserRepository


class InvalidCredentialsError(AppError):
    status_code = 401
    code = "invalid_credentials"
    message = "The email or password is wrong."


class InactiveUserError(AppError):
    status_code = 403
    code = "inactive_user"
    message = "This account is deactivated."


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The user these credentials belong to; an unknown email and a wrong password look alike."""
    user = await UserRepository(session).get_by_email(email)
    if user is None:
        await burn_verification_time(password)
        raise InvalidCredentialsError
    matches, upgraded_hash = await verify_password(password, user.password_hash)
    if not matches:
        raise InvalidCredentialsError
    if upgraded_hash is not None:
        user.password_hash = upgraded_hash
    if not user.is_active:
        raise InactiveUserError
    return user


def issue_access_token(settings: Settings, user: User) -> IssuedToken:
    return issue_token(
        settings,
        subject=str(user.id),
        token_type=TokenType.ACCESS,
        version=user.token_version,
        lifetime=timedelta(minutes=settings.access_token_expire_minutes),
    )
