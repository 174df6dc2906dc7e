"""The account flows behind /auth: registration, verification, sign-in, passwords.

Where an answer could tell whether an address has an account (registration, resending a code,
a forgotten password), both cases answer alike and cost alike; the difference goes by email.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEventType, AuditTrail
from ..core.config import Settings
from ..core.email import Outbox
from ..core.errors import AppError
from ..core.passwords import burn_verification_time, hash_password, verify_password
from ..core.ratelimit import RateLimitedError, Throttle
from ..users.models import User
from ..users.repository import UserRepository
from ..users.service import EmailTakenError, check_password_policy, create_user, set_password
from .codes import CodePurpose, InvalidCodeError, issue_code, redeem_code


class InvalidCredentialsError(AppError):
    status_code = 401
    code = "invalid_credentials"
    message = "The email or password is wrong."
    # The failed sign-in stays in the audit trail.
    keeps_changes = True


class InactiveUserError(AppError):
    status_code = 403
    code = "inactive_user"
    message = "This account is deactivated."
    keeps_changes = True


class EmailNotVerifiedError(AppError):
    status_code = 403
    code = "email_not_verified"
    message = "Verify your email address before signing in; we can send a new code."
    keeps_changes = True


async def authenticate(
    session: AsyncSession, settings: Settings, audit: AuditTrail, email: str, password: str
) -> User:
    """The user these credentials belong to; an unknown email and a wrong password look alike."""
    user = await UserRepository(session).get_by_email(email)
    if user is None:
        await burn_verification_time(password)
        audit.record(AuditEventType.LOGIN_FAILED, user_id=None, detail="unknown email")
        raise InvalidCredentialsError
    matches, upgraded_hash = await verify_password(password, user.password_hash)
    if not matches:
        audit.record(AuditEventType.LOGIN_FAILED, user_id=user.id, detail="wrong password")
        raise InvalidCredentialsError
    if not user.is_active:
        audit.record(AuditEventType.LOGIN_FAILED, user_id=user.id, detail="account deactivated")
        raise InactiveUserError
    if settings.require_email_verification and not user.is_verified:
        audit.record(AuditEventType.LOGIN_FAILED, user_id=user.id, detail="email not verified")
        raise EmailNotVerifiedError
    if upgraded_hash is not None:
        user.password_hash = upgraded_hash
    audit.record(AuditEventType.LOGIN_SUCCEEDED, user_id=user.id)
    return user


async def _may_notify(settings: Settings, throttle: Throttle, email: str) -> bool:
    """Whether the owner of a taken address may be told once more; the answer stays 202, so
    that flooding someone's inbox through registrations tells nothing either."""
    try:
        await throttle.per_account(
            settings.rate_limit_verification_resend_per_email, "registration-notice", email
        )
    except RateLimitedError:
        return False
    return True


def _send_code(settings: Settings, outbox: Outbox, template: str, user: User, code: str) -> None:
    outbox.send(template, user.email, code=code, expire_minutes=settings.code_expire_minutes)


async def register(
    session: AsyncSession,
    settings: Settings,
    outbox: Outbox,
    throttle: Throttle,
    *,
    email: str,
    password: str,
    full_name: str | None,
) -> None:
    """Create the account and email it a code; for a taken address, warn its owner instead."""
    check_password_policy(settings, password, email)
    try:
        user = await create_user(
            session, settings, email=email, password=password, full_name=full_name
        )
    except EmailTakenError:
        # Hash anyway: a taken address must cost what a new one does.
        await hash_password(password)
        owner = await UserRepository(session).get_by_email(email)
        if owner is not None and await _may_notify(settings, throttle, email):
            outbox.send("registration_attempt", owner.email)
        return
    code = await issue_code(session, settings, user, CodePurpose.VERIFY_EMAIL)
    _send_code(settings, outbox, "verification_code", user, code)


async def resend_verification(
    session: AsyncSession, settings: Settings, outbox: Outbox, email: str
) -> None:
    user = await UserRepository(session).get_by_email(email)
    if user is None or user.is_verified or not user.is_active:
        return
    code = await issue_code(session, settings, user, CodePurpose.VERIFY_EMAIL)
    _send_code(settings, outbox, "verification_code", user, code)


async def verify_email(
    session: AsyncSession, settings: Settings, audit: AuditTrail, email: str, code: str
) -> None:
    user = await UserRepository(session).get_by_email(email)
    if user is None or user.is_verified or not user.is_active:
        raise InvalidCodeError
    await redeem_code(session, settings, user, CodePurpose.VERIFY_EMAIL, code)
    user.is_verified = True
    audit.record(AuditEventType.EMAIL_VERIFIED, user_id=user.id)


async def forgot_password(
    session: AsyncSession, settings: Settings, outbox: Outbox, email: str
) -> None:
    user = await UserRepository(session).get_by_email(email)
    if user is None or not user.is_active:
        return
    code = await issue_code(session, settings, user, CodePurpose.RESET_PASSWORD)
    _send_code(settings, outbox, "password_reset_code", user, code)


async def reset_password(
    session: AsyncSession,
    settings: Settings,
    outbox: Outbox,
    audit: AuditTrail,
    *,
    email: str,
    code: str,
    new_password: str,
) -> None:
    """Set a new password with an emailed code; every session ends, the address is verified."""
    # The policy first: a refused password must not spend the code.
    check_password_policy(settings, new_password, email)
    user = await UserRepository(session).get_by_email(email)
    if user is None or not user.is_active:
        raise InvalidCodeError
    await redeem_code(session, settings, user, CodePurpose.RESET_PASSWORD, code)
    await set_password(settings, user, new_password)
    # Only the mailbox's owner could read the code.
    user.is_verified = True
    audit.record(AuditEventType.PASSWORD_RESET, user_id=user.id)
    outbox.send("password_changed", user.email)
