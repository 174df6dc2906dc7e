"""The account flows behind /auth: registration, verification, sign-in, sign-out, passwords.

Where an answer could tell whether an address has an account (registration, resending a code,
a forgotten password), both cases answer alike and cost alike; the difference goes by email.
"""

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEventType, AuditTrail
from ..core.config import Settings
from ..core.email import Outbox
from ..core.errors import AppError
from ..core.passwords import burn_verification_time, verify_password
from ..core.revocation import revoke_access_token
from ..core.tokens import TokenClaims
from ..users.lifecycle import AccountLife
from ..users.models import User
from ..users.repository import UserRepository
from ..users.service import (
    EmailTakenError,
    check_password_policy,
    confirm_password,
    create_user,
    end_all_sessions,
    set_password,
)
from .codes import CodePurpose, issue_code, redeem_code
from .schemas import Registration
from .sessions import TokenPair, end_session, find_session_id, start_session
from .steps import SignInChallenge, SignInStep


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
    db: AsyncSession, settings: Settings, audit: AuditTrail, email: str, password: str
) -> User:
    """The user these credentials belong to; an unknown email and a wrong password look alike."""
    user = await UserRepository(db).get_by_email(email)
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
    return user


async def sign_in(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    steps: tuple[SignInStep, ...],
    email: str,
    password: str,
) -> TokenPair | SignInChallenge:
    """The password first, then every registered step; tokens once none asks for more."""
    user = await authenticate(db, settings, audit, email, password)
    for step in steps:
        if challenge := await step(db, settings, user):
            audit.record(AuditEventType.SIGN_IN_CHALLENGED, user_id=user.id)
            return challenge
    audit.record(AuditEventType.LOGIN_SUCCEEDED, user_id=user.id)
    return await start_session(db, settings, user)


def _send_code(settings: Settings, outbox: Outbox, template: str, user: User, code: str) -> None:
    outbox.send(template, user.email, code=code, expire_minutes=settings.code_expire_minutes)


async def register(
    db: AsyncSession,
    settings: Settings,
    outbox: Outbox,
    life: AccountLife,
    registration: Registration,
    password_hash: str,
    may_notify_owner: bool,
) -> None:
    """Create the account and email it a code; for a taken address, warn its owner instead.
    Run after the answer, before which the password policy was checked and the password hashed
    (for a taken address too): what is left here is a few statements, and no slow work that
    answered registrations could pile up behind."""
    email = registration.email
    try:
        user = await create_user(
            db,
            settings,
            life,
            email=email,
            password=registration.password,
            full_name=registration.full_name,
            password_hash=password_hash,
        )
    except EmailTakenError:
        owner = await UserRepository(db).get_by_email(email)
        if owner is not None and may_notify_owner:
            outbox.send("registration_attempt", owner.email)
        return
    code = await issue_code(db, settings, user, CodePurpose.VERIFY_EMAIL)
    _send_code(settings, outbox, "verification_code", user, code)


async def resend_verification(
    db: AsyncSession, settings: Settings, outbox: Outbox, email: str
) -> None:
    user = await UserRepository(db).get_by_email(email)
    if user is None or user.is_verified or not user.is_active:
        return
    code = await issue_code(db, settings, user, CodePurpose.VERIFY_EMAIL)
    _send_code(settings, outbox, "verification_code", user, code)


async def verify_email(
    db: AsyncSession, settings: Settings, audit: AuditTrail, email: str, code: str
) -> None:
    found = await UserRepository(db).get_by_email(email)
    may_verify = found is not None and not found.is_verified and found.is_active
    user = await redeem_code(
        db, settings, audit, found if may_verify else None, CodePurpose.VERIFY_EMAIL, code
    )
    user.is_verified = True
    audit.record(AuditEventType.EMAIL_VERIFIED, user_id=user.id)


async def forgot_password(db: AsyncSession, settings: Settings, outbox: Outbox, email: str) -> None:
    user = await UserRepository(db).get_by_email(email)
    if user is None or not user.is_active:
        return
    code = await issue_code(db, settings, user, CodePurpose.RESET_PASSWORD)
    _send_code(settings, outbox, "password_reset_code", user, code)


async def reset_password(
    db: AsyncSession,
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
    found = await UserRepository(db).get_by_email(email)
    may_reset = found is not None and found.is_active
    user = await redeem_code(
        db, settings, audit, found if may_reset else None, CodePurpose.RESET_PASSWORD, code
    )
    await set_password(settings, user, new_password)
    # Only the mailbox's owner could read the code.
    user.is_verified = True
    audit.record(AuditEventType.PASSWORD_RESET, user_id=user.id)
    outbox.send("password_changed", user.email)


async def change_password(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    *,
    current_password: str,
    new_password: str,
) -> TokenPair:
    """Change the password; every other session ends, this one goes on with a new pair."""
    await confirm_password(user, current_password)
    await set_password(settings, user, new_password)
    audit.record(AuditEventType.PASSWORD_CHANGED, user_id=user.id)
    outbox.send("password_changed", user.email)
    return await start_session(db, settings, user)


async def log_out(
    db: AsyncSession,
    settings: Settings,
    redis: Redis,
    audit: AuditTrail,
    claims: TokenClaims,
    user: User,
    refresh_token: str | None,
) -> None:
    """End this session (and the one a refresh token names): their tokens stop working at once."""
    await revoke_access_token(redis, claims)
    session_ids = {claims.session_id}
    if refresh_token is not None:
        session_ids.add(await find_session_id(db, user, refresh_token))
    for session_id in filter(None, session_ids):
        await end_session(db, settings, redis, session_id)
    audit.record(AuditEventType.LOGOUT, user_id=user.id)


def log_out_everywhere(audit: AuditTrail, user: User) -> None:
    end_all_sessions(user)
    audit.record(AuditEventType.LOGOUT_EVERYWHERE, user_id=user.id)
