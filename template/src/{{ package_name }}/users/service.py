"""Account rules that every way of making or changing a user goes through."""

from functools import cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEventType, AuditTrail
from ..core.config import Settings
from ..core.email import Outbox
from ..core.errors import AppError, ConflictError
from ..core.passwords import hash_password, verify_password
from .identity import normalize_email
from .lifecycle import AccountLife, announce
from .models import User
from .profile import Profile
from .repository import UserRepository
from .schemas import PASSWORD_MAX_LENGTH, ProfileUpdate, UserRead

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


class EmailTakenError(ConflictError):
    code = "email_taken"
    message = "An account with this email already exists."


class WeakPasswordError(AppError):
    status_code = 422
    code = "weak_password"

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message, details={"field": "password", "rule": rule})


class WrongPasswordError(AppError):
    status_code = 403
    code = "invalid_password"
    message = "The password is wrong."


@cache
def _common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased; lines starting with "# " are its header."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("# "))


def check_password_policy(settings: Settings, password: str, email: str) -> None:
    """NIST SP 800-63B: length, a blocklist and no echo of the account; no composition rules."""
    if len(password) < settings.password_min_length:
        msg = f"The password must have at least {settings.password_min_length} characters."
        raise WeakPasswordError(msg, "too_short")
    if len(password) > PASSWORD_MAX_LENGTH:
        msg = f"The password must have at most {PASSWORD_MAX_LENGTH} characters."
        raise WeakPasswordError(msg, "too_long")
    folded = password.casefold()
    if folded in _common_passwords():
        msg = "The password is one of the 10,000 most common passwords; choose another."
        raise WeakPasswordError(msg, "too_common")
    address = normalize_email(email)
    if folded in {address, address.partition("@")[0]}:
        msg = "The password must not be the email address or the part before its @."
        raise WeakPasswordError(msg, "contains_email")


async def create_user(
    db: AsyncSession,
    settings: Settings,
    life: AccountLife,
    *,
    email: str,
    password: str,
    full_name: str | None = None,
    is_superuser: bool = False,
    is_verified: bool = False,
    password_hash: str | None = None,
) -> User:
    """A new account; `password_hash`, when given, is the password's hash made beforehand."""
    users = UserRepository(db)
    if await users.get_by_email(email) is not None:
        raise EmailTakenError
    check_password_policy(settings, password, email)
    user = User(
        email=normalize_email(email),
        password_hash=password_hash or await hash_password(password),
        full_name=full_name,
        is_superuser=is_superuser,
        is_verified=is_verified,
    )
    try:
        # A savepoint: when a concurrent request took the address first, only this insert fails.
        async with db.begin_nested():
            await users.add(user)
    except IntegrityError as exc:
        raise EmailTakenError from exc
    await announce(life.created, db, user)
    return user


async def confirm_password(user: User, password: str) -> None:
    """Check the password of a signed-in user before a sensitive change (the route counts the
    try against the account's limit, like every other door to a password)."""
    matches, upgraded_hash = await verify_password(password, user.password_hash)
    if not matches:
        raise WrongPasswordError
    if upgraded_hash is not None:
        user.password_hash = upgraded_hash


async def set_password(settings: Settings, user: User, password: str) -> None:
    """Set a new password and end every session the user had."""
    check_password_policy(settings, password, user.email)
    user.password_hash = await hash_password(password)
    end_all_sessions(user)


def end_all_sessions(user: User) -> None:
    """Every token carries the user's token version; bumping it revokes them all at once."""
    user.token_version += 1


async def update_profile(
    db: AsyncSession, profile: Profile, user: User, update: ProfileUpdate
) -> UserRead:
    """Change the user's own fields; the answer is the whole profile."""
    for field, value in update.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    return await profile.of(db, user.id, user.token_version)


async def deactivate(db: AsyncSession, life: AccountLife, user: User) -> None:
    """Deactivate an account: every session ends, and whoever registered is told."""
    user.is_active = False
    end_all_sessions(user)
    await announce(life.deactivated, db, user)


async def delete_user(db: AsyncSession, life: AccountLife, outbox: Outbox, user: User) -> None:
    """Delete an account for good, once every listener agreed; its owner is told by email."""
    await announce(life.deleting, db, user)
    outbox.send("account_deleted", user.email)
    await UserRepository(db).delete(user)


async def delete_account(
    db: AsyncSession,
    life: AccountLife,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    password: str,
) -> None:
    """The user deletes their own account; the password confirms it is really its owner."""
    await confirm_password(user, password)
    audit.record(AuditEventType.ACCOUNT_DELETED, user_id=user.id)
    await delete_user(db, life, outbox, user)
