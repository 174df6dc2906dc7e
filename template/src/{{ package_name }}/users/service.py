"""Creating accounts: the rules every way of making a user goes through."""

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.errors import AppError, ConflictError
from ..core.passwords import hash_password
from .models import User
from .repository import UserRepository, normalize_email

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128


class EmailTakenError(ConflictError):
    code = "email_taken"
    message = "An account with this email already exists."


class WeakPasswordError(AppError):
    status_code = 422
    code = "weak_password"


def check_password_policy(password: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        msg = f"The password must have at least {PASSWORD_MIN_LENGTH} characters."
        raise WeakPasswordError(msg)
    if len(password) > PASSWORD_MAX_LENGTH:
        msg = f"The password must have at most {PASSWORD_MAX_LENGTH} characters."
        raise WeakPasswordError(msg)


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str | None = None,
    is_superuser: bool = False,
    is_verified: bool = False,
) -> User:
    users = UserRepository(session)
    if await users.get_by_email(email) is not None:
        raise EmailTakenError
    check_password_policy(password)
    user = User(
        email=normalize_email(email),
        password_hash=await hash_password(password),
        full_name=full_name,
        is_superuser=is_superuser,
        is_verified=is_verified,
    )
    return await users.add(user)
